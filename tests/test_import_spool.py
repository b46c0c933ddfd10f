"""Odoo-free tests of vip_customer/tools/import_spool.py: the rows file a
background import job reads a chunk at a time."""

import datetime
import io

from conftest import load_pure_module

spool = load_pure_module("vip_customer/tools/import_spool.py")


def _file(rows, meta=None):
    output = io.BytesIO()
    writer = spool.RowsWriter(output, meta or {"labels": {"name": "名称"}})
    for row_number, values in rows:
        writer.add(row_number, values)
    writer.close()
    output.seek(0)
    return output


def test_cells_keep_their_type():
    values = {
        "name": "上海翡翠贸易",
        "phone": 13800138000,
        "points": 12.5,
        "is_company": True,
        "birthday": datetime.date(1980, 5, 1),
        "anniversary": datetime.datetime(2015, 3, 1, 10, 30),
        "time": datetime.time(9, 15),
        "span": datetime.timedelta(hours=2),
    }
    meta, rows = spool.read_rows(_file([(2, values)]), 0, 10)
    assert meta == {"labels": {"name": "名称"}}
    assert rows == [(2, values)]
    assert type(rows[0][1]["anniversary"]) is datetime.datetime
    assert type(rows[0][1]["birthday"]) is datetime.date


def test_chunks_skip_to_their_start_and_cover_every_row_once():
    rows = [(n + 2, {"name": f"Customer {n}"}) for n in range(23)]
    seen = []
    start = 0
    while True:
        _meta, chunk = spool.read_rows(_file(rows), start, 5)
        if not chunk:
            break
        seen.extend(chunk)
        start += len(chunk)
    assert seen == rows
    assert spool.read_rows(_file(rows), 20, 5)[1] == rows[20:]
    assert spool.read_rows(_file(rows), 23, 5)[1] == []


def test_meta_alone():
    assert spool.read_meta(_file([], {"labels": {}})) == {"labels": {}}
    assert spool.read_rows(_file([]), 0, 5) == ({"labels": {"name": "名称"}}, [])
