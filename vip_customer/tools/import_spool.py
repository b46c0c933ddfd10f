"""The rows of a validated import file, as a background import job keeps them.

A job works through its file one chunk per cron call; re-parsing an Excel
workbook to reach row 99,000 costs as much as parsing the whole of it (about
12 s per 100,000 rows with openpyxl), so the wizard writes the rows it has just
validated as gzip-compressed JSON lines: a first line of metadata (the column
labels), then one ``[row number, {column key: cell value}]`` line per data row.
A chunk skips to its first row by counting lines. Cell values keep their type
(text, numbers, booleans, dates and times).

Pure Python (no Odoo): tested by the repository's Odoo-free tests.
"""

import datetime
import gzip
import io
import json

_TYPES = (
    # the order matters: a datetime is a date
    ("dt", datetime.datetime, datetime.datetime.fromisoformat),
    ("d", datetime.date, datetime.date.fromisoformat),
    ("t", datetime.time, datetime.time.fromisoformat),
)


def _encode(value):
    for tag, cls, _parse in _TYPES:
        if isinstance(value, cls):
            return {tag: value.isoformat()}
    if isinstance(value, datetime.timedelta):
        return {"s": value.total_seconds()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _decode(value):
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        if tag == "s":
            return datetime.timedelta(seconds=text)
        for known, _cls, parse in _TYPES:
            if known == tag:
                return parse(text)
        raise ValueError(f"unknown cell type {tag!r}")
    return value


class RowsWriter:
    """Write a rows file into ``fileobj`` (binary): ``add(row_number, values)``
    per row, then ``close()`` (``fileobj`` stays open)."""

    def __init__(self, fileobj, meta):
        self._gzip = gzip.GzipFile(fileobj=fileobj, mode="wb", mtime=0)
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="\n")
        self._text.write(json.dumps(meta, ensure_ascii=False) + "\n")
        self.count = 0

    def add(self, row_number, values):
        line = [row_number, {key: _encode(value) for key, value in values.items()}]
        self._text.write(json.dumps(line, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self):
        self._text.flush()
        self._text.detach()
        self._gzip.close()


def read_meta(fileobj):
    """The metadata line of a rows file."""
    with gzip.GzipFile(fileobj=fileobj, mode="rb") as stream:
        return json.loads(stream.readline())


def read_rows(fileobj, start, limit):
    """``(meta, [(row number, values)])``: the rows ``start`` to
    ``start + limit - 1`` (counted from 0) of a rows file, read as a stream."""
    rows = []
    with gzip.GzipFile(fileobj=fileobj, mode="rb") as stream:
        meta = json.loads(stream.readline())
        for index, line in enumerate(stream):
            if index < start:
                continue
            if len(rows) >= limit:
                break
            row_number, values = json.loads(line)
            rows.append((row_number, {key: _decode(value) for key, value in values.items()}))
    return meta, rows
