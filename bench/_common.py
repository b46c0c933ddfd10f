"""Shared plumbing of the benchmarks in bench/ (stdlib only; Odoo is imported lazily).

A benchmark script:

1. calls :func:`add_common_args` on its argparse parser and :func:`start_odoo` with the
   parsed options: puts ``--odoo-src`` on ``sys.path`` and configures Odoo (addons path =
   Odoo's two addons folders + this repository);
2. calls :func:`prepare_database`: creates the database with the add-ons it needs when it
   does not exist (from ``$VIP_BENCH_TEMPLATE`` when set, else empty and without demo data),
   and refuses a database that exists without the bench marker unless ``--force``;
3. keeps its own generation parameters with :func:`read_marker` / :func:`write_marker`
   (table ``vip_bench_meta``, one row per benchmark and key), so that generated data is
   reused by the next run and regenerated only with ``--rebuild``;
4. measures with :func:`measure` / :func:`run_isolated` and reports with
   :func:`print_table`, :func:`print_targets` and :func:`ratio_line`.
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import time
import traceback
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = REPO / "bench" / "_data"  # git-ignored: Odoo logs of database creation, profiles
MARKER_TABLE = "vip_bench_meta"
GIB = 1024**3


class BenchError(Exception):
    """A refusal or failure the script reports in one line (exit code 2)."""


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------
# Command line and Odoo start-up
# ---------------------------------------------------------------------------
def add_common_args(parser):
    parser.add_argument("--odoo-src", required=True,
                        help="Odoo 18 source tree (the folder holding odoo-bin)")
    parser.add_argument("--db", required=True, help="bench database (created if missing)")
    parser.add_argument("--rebuild", action="store_true",
                        help="regenerate the bench data (drops and recreates a database "
                        "this bench created)")
    parser.add_argument("--force", action="store_true",
                        help="accept an existing database that carries no bench marker")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the measured code with cProfile (extra run)")
    return parser


def parse_args(parser, argv=None):
    options = parser.parse_args(argv)
    src = Path(options.odoo_src).resolve()
    if not (src / "odoo-bin").is_file():
        parser.error(f"--odoo-src {src}: no odoo-bin there")
    options.odoo_src = src
    return options


def addons_path(odoo_src):
    return ",".join([str(odoo_src / "addons"), str(odoo_src / "odoo" / "addons"), str(REPO)])


def _odoo_cli_args(options):
    args = [f"--addons-path={addons_path(options.odoo_src)}", "--log-level=warn",
            "--max-cron-threads=0"]
    for env_name, opt in (("PGHOST", "--db_host"), ("PGPORT", "--db_port"),
                          ("PGUSER", "--db_user"), ("PGPASSWORD", "--db_password")):
        if os.environ.get(env_name):
            args.append(f"{opt}={os.environ[env_name]}")
    return args


def start_odoo(options):
    """Import and configure Odoo from ``--odoo-src``; returns the ``odoo`` package."""
    sys.path.insert(0, str(options.odoo_src))
    import odoo  # noqa: PLC0415

    major = odoo.release.version_info[0]
    if major != 18:
        raise BenchError(f"{options.odoo_src} holds Odoo {major}, not 18")
    odoo.tools.config.parse_config(_odoo_cli_args(options))
    return odoo


# ---------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------
def _admin_query(odoo, query, params=()):
    with contextlib.closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr.execute(query, params)
        return cr.fetchall()


def db_exists(odoo, db):
    return bool(_admin_query(odoo, "SELECT 1 FROM pg_database WHERE datname = %s", [db]))


def _has_marker(odoo, db):
    with contextlib.closing(odoo.sql_db.db_connect(db).cursor()) as cr:
        cr.execute("SELECT to_regclass(%s) IS NOT NULL", [MARKER_TABLE])
        return cr.fetchone()[0]


def _installed(odoo, db, modules):
    with contextlib.closing(odoo.sql_db.db_connect(db).cursor()) as cr:
        cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
        if not cr.fetchone()[0]:
            return set()
        cr.execute("SELECT name FROM ir_module_module WHERE state = 'installed' AND name = ANY(%s)",
                   [list(modules)])
        return {name for (name,) in cr.fetchall()}


def _create_marker(odoo, db, forced=False):
    with odoo.sql_db.db_connect(db).cursor() as cr:
        cr.execute(f"""
            CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (
                bench varchar NOT NULL, key varchar NOT NULL, value text,
                PRIMARY KEY (bench, key))
        """)
        cr.execute(f"""
            INSERT INTO {MARKER_TABLE} (bench, key, value)
            VALUES ('_', 'created', to_json(NOW()::text)::text)
            ON CONFLICT DO NOTHING
        """)
        if forced:  # an existing database the bench did not create: never dropped
            cr.execute(f"""
                INSERT INTO {MARKER_TABLE} (bench, key, value) VALUES ('_', 'forced', 'true')
                ON CONFLICT DO NOTHING
            """)


def filestore(odoo, db):
    return Path(odoo.tools.config.filestore(db))


def _forced(odoo, db):
    with contextlib.closing(odoo.sql_db.db_connect(db).cursor()) as cr:
        cr.execute(f"SELECT 1 FROM {MARKER_TABLE} WHERE bench = '_' AND key = 'forced'")
        return bool(cr.fetchone())


def drop_database(odoo, db):
    """Drop a database the bench created, and its filestore."""
    if db_exists(odoo, db) and (not _has_marker(odoo, db) or _forced(odoo, db)):
        raise BenchError(f"refusing to drop {db}: the bench did not create it")
    odoo.sql_db.close_db(db)
    with contextlib.closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    shutil.rmtree(filestore(odoo, db), ignore_errors=True)


def _install(options, modules, demo):
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    logfile = DATA_DIR / f"install-{options.db}.log"
    cmd = [sys.executable, str(options.odoo_src / "odoo-bin"), *_odoo_cli_args(options),
           "-d", options.db, "-i", ",".join(modules), "--stop-after-init", "--no-http"]
    if not demo:
        cmd.append("--without-demo=all")
    log(f"installing {', '.join(modules)} in {options.db} (log: {logfile})")
    with open(logfile, "w", encoding="utf-8") as out:
        code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT)
    errors = [line for line in logfile.read_text(encoding="utf-8").splitlines()
              if " ERROR " in line or " CRITICAL " in line]
    if code or errors:
        raise BenchError(f"installing {modules} in {options.db} failed (exit {code}): "
                         f"{errors[:1] or 'see ' + str(logfile)}")


def prepare_database(odoo, options, modules):
    """Make ``options.db`` a bench database with ``modules`` installed.

    Returns True when the database was (re)created now. An existing database is used only
    if it carries the bench marker (or with ``--force``, which then adds the marker); with
    ``--rebuild`` a marked database is dropped and created again.
    """
    db = options.db
    if db_exists(odoo, db):
        marked = _has_marker(odoo, db)
        if not marked and not options.force:
            raise BenchError(f"database {db} exists and is not a bench database (no "
                             f"{MARKER_TABLE} table): use another --db, or --force")
        if options.rebuild and marked and not _forced(odoo, db):
            log(f"--rebuild: dropping {db}")
            drop_database(odoo, db)
        elif options.rebuild:
            raise BenchError(f"--rebuild drops the database, and {db} was not created by the "
                             "bench: drop it yourself or use another --db")
        else:
            _create_marker(odoo, db, forced=not marked)
            missing = [m for m in modules if m not in _installed(odoo, db, modules)]
            if missing:
                _install(options, missing, demo=True)  # an existing database keeps its demo flag
            return False
    template = os.environ.get("VIP_BENCH_TEMPLATE")
    t0 = time.perf_counter()
    if template:
        log(f"creating {db} from template {template}")
        odoo.sql_db.close_db(template)
        with contextlib.closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
            cr._cnx.autocommit = True
            cr.execute(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
        if filestore(odoo, template).is_dir():
            shutil.copytree(filestore(odoo, template), filestore(odoo, db), dirs_exist_ok=True)
    else:
        log(f"creating {db} (empty, no demo data)")
        odoo.service.db._create_empty_database(db)
    _create_marker(odoo, db)
    try:
        _install(options, modules, demo=False)
    except BenchError:
        drop_database(odoo, db)
        raise
    log(f"database {db} ready in {time.perf_counter() - t0:.0f} s")
    return True


def read_marker(cr, bench):
    cr.execute(f"SELECT key, value FROM {MARKER_TABLE} WHERE bench = %s", [bench])
    return {key: json.loads(value) for key, value in cr.fetchall()}


def write_marker(cr, bench, values):
    cr.execute(f"DELETE FROM {MARKER_TABLE} WHERE bench = %s", [bench])
    for key, value in values.items():
        cr.execute(f"INSERT INTO {MARKER_TABLE} (bench, key, value) VALUES (%s, %s, %s)",
                   [bench, key, json.dumps(value, default=str)])


@contextlib.contextmanager
def indexes_deferred(cr, table):
    """Drop ``table``'s plain indexes (not those behind a constraint) for a bulk insert and
    build them again after it, in the same transaction: one sort per index instead of ten
    million random index insertions (the 10M-invoice data set took hours the other way)."""
    cr.execute("""
        SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.schemaname = current_schema() AND i.tablename = %s
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                            WHERE c.conindid = (quote_ident(i.indexname))::regclass)
    """, [table])
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(f'DROP INDEX "{name}"')
    yield
    t0 = time.perf_counter()
    cr.execute("SET LOCAL maintenance_work_mem = '1GB'")
    for _name, definition in indexes:
        cr.execute(definition)
    log(f"{len(indexes)} indexes of {table} built again in {time.perf_counter() - t0:.0f} s")


@contextlib.contextmanager
def environment(odoo, db, context=None):
    """A superuser environment on a new cursor, committed on success."""
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, dict(context or {}))


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------
def maxrss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def measure(func, trace=False, profile_to=None):
    """Run ``func()``; returns ``(result, stats)`` with ``seconds``, ``maxrss_delta`` (bytes)
    and, with ``trace``, ``py_peak`` (tracemalloc peak, bytes; tracing slows Python down)."""
    stats = {}
    profiler = cProfile.Profile() if profile_to else None
    if trace:
        tracemalloc.start()
    rss0 = maxrss_bytes()
    t0 = time.perf_counter()
    if profiler:
        profiler.enable()
    try:
        result = func()
    finally:
        if profiler:
            profiler.disable()
        stats["seconds"] = time.perf_counter() - t0
        stats["maxrss_delta"] = maxrss_bytes() - rss0
        if trace:
            stats["py_peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    if profiler:
        profiler.dump_stats(profile_to)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
        stats["profile"] = out.getvalue()
    return result, stats


def run_isolated(odoo, func):
    """Run ``func()`` in a forked child and return what it returns (JSON-able).

    The child starts from this process's memory but has its own peak-RSS counter, so
    ``ru_maxrss`` deltas measured inside it belong to that run alone (in one process the
    high-water mark of an earlier, bigger run would hide them). Database connections are
    closed before forking: the child opens its own.
    """
    odoo.sql_db.close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        code = 0
        try:
            payload = {"ok": func()}
        except BaseException:  # noqa: BLE001 - reported to the parent
            payload = {"error": traceback.format_exc()}
            code = 1
        try:
            with os.fdopen(write_fd, "w") as out:
                json.dump(payload, out, default=str)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd) as inp:
        data = inp.read()
    _pid, status = os.waitpid(pid, 0)
    payload = json.loads(data) if data else {"error": f"child died (wait status {status})"}
    if "error" in payload:
        raise BenchError("measured run failed:\n" + payload["error"])
    return payload["ok"]


# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------
def fmt_bytes(value):
    if value is None:
        return "-"
    return f"{value / 1024**2:,.0f} MiB"


def fmt_seconds(value):
    if value is None:
        return "-"
    return f"{value:,.2f} s" if value < 100 else f"{value:,.0f} s"


def print_table(headers, rows):
    cells = [[str(c) for c in headers]] + [["-" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = "+".join("-" * (w + 2) for w in widths)
    print(line)
    for n, row in enumerate(cells):
        print(" | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            print(line)
    print(line)


def print_targets(targets):
    """``targets``: ``(label, measured text, passed)``; prints one PASS/FAIL line each."""
    print("Targets:")
    for label, measured, passed in targets:
        print(f"  {'PASS' if passed else 'FAIL'}  {label}: {measured}")


def ratio_line(bench, value):
    print(f"RATIO {bench} {value:.2f}", flush=True)


def main_wrapper(main):
    """Exit 0 after a report (even with failed targets), 2 on a refusal, 1 on a crash."""
    try:
        main()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


def new_parser(description):
    return argparse.ArgumentParser(description=description,
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
