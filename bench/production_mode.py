"""Production mode: the nightly crons under Odoo's multi-worker server with cron time limits.

    python bench/production_mode.py --odoo-src PATH --db NAME \
        [--customers 200000 --invoices 2000000 --months 24 --others 20000 --import-rows 100000]
        [--crons moments,dispatch,escalation,expiry,tier,import] [--limit-time-real-cron 30]
        [--limit-time-cpu 25 --limit-time-real 60 --workers 2] [--timeout 3600] [--rebuild]

Run it with the Odoo's own Python. It creates the database when missing (see bench/README.md)
and fills it with the data generators of the other benches (reused by the next run):
``tier_recompute.py`` (``--customers`` / ``--invoices``), and at ``--others`` each
``key_moments.py`` (VIP customers, 20 rules, ~2% of them with a moment tonight),
``points_expiry.py`` (customers, 5 lots each, 20% lapsed), ``sla_escalation.py`` (open tickets,
15% long overdue) and ``survey_dispatch.py`` (a campaign due today). Then it starts the real
server as production runs it, in a subprocess::

    odoo-bin --workers=2 --max-cron-threads=1 --limit-time-real-cron=30 --limit-time-cpu=25
             --limit-time-real=60 -d DB --http-port PORT ...

and, one cron after the other (the order avoids one cron's writes changing another's input:
the tier run re-evaluates the customers of the moments and of the campaign), sets the cron's
``nextcall`` to now (plain SQL on ``ir_cron`` plus the ``cron_trigger`` notification Odoo's own
``_trigger()`` sends), and watches ``ir_cron`` / ``ir_cron_progress`` until Odoo's runner
reschedules it, with a timeout. Smaller batches than the engines' defaults are set in the
cron's code (``--expiry-batch``, ``--moments-batch``, ...) so that each cron needs several
calls. The other crons of the database are postponed by a day during the run.

For each cron it prints the calls seen (``Job ... done in`` lines of the server log, the
``ir_cron_progress`` rows), their longest time, the wall time, the worker kills and limits
hit (``WorkerCron (...) timeout after``, ``CPU time limit``, ``virtual real time limit``,
``virtual memory limit``), failures, and the correctness checks, each an independent SQL
query: stored tiers, spend and purchase counts against one raw aggregate; lots expired and
balances against the lapsed lots counted before; every due ticket escalated; the moments'
(rule, customer) pairs against ``key_moments.py``'s floor query; one invitation per
customer of the campaign. With the model ``vip.import.job`` installed, a ``--import-rows``
customer file is checked and imported through the wizard over XML-RPC and the job is
watched until done. Last line ``RESULT production_mode <ok|fail>``.
"""

import base64
import datetime
import os
import re
import signal
import subprocess
import sys
import time
import types
import xmlrpc.client
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402
import key_moments  # noqa: E402
import points_expiry  # noqa: E402
import sla_escalation  # noqa: E402
import survey_dispatch  # noqa: E402
import tier_recompute  # noqa: E402

BENCH = "production_mode"
MODULES = ["vip_customer", "vip_loyalty", "vip_service_ticket", "vip_survey"]
ALL_CRONS = ["moments", "dispatch", "escalation", "expiry", "tier", "import"]
CRON_XMLIDS = {
    "moments": "vip_customer.ir_cron_vip_key_moments",
    "dispatch": "vip_survey.ir_cron_vip_survey_dispatch",
    "escalation": "vip_service_ticket.ir_cron_vip_service_escalate",
    "expiry": "vip_loyalty.ir_cron_vip_loyalty_expire",
    "tier": "vip_customer.ir_cron_vip_recompute_tiers",
    "import": "vip_customer.ir_cron_vip_import_jobs",
}
SURVEY_EMAILS = "survey.bench.%@example.com"  # survey_dispatch.py's customers
IMPORT_REF = "VPM-"  # refs of the imported customers
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (\d+) (\w+) ")
JOB_EVENT = re.compile(r"Job '.*' \((\d+)\) (starting|done in ([\d.]+)s|timed out|"
                       r"server action #\d+ failed)")
PROCESSED = re.compile(r"Job '.*' \((\d+)\) processed \d+ records")
WORKER_ALIVE = re.compile(r"Worker WorkerCron \((\d+)\) alive")
KILLS = [  # (what, pattern giving the worker's pid)
    ("real time", re.compile(r"WorkerCron \((\d+)\) timeout after \d+s")),
    ("CPU time", re.compile(r"Worker \((\d+)\) CPU time limit \(\d+\) reached")),
    ("memory", re.compile(r"Worker \((\d+)\) virtual memory limit")),
]
HTTP_KILL = re.compile(r"WorkerHTTP \(\d+\) timeout after \d+s")
THREAD_LIMIT = re.compile(r"virtual real time limit")  # the threaded server's (not prefork)


def build_parser():
    parser = bench.new_parser(__doc__.split("\n\n")[0])
    bench.add_common_args(parser)
    parser.add_argument("--customers", type=int, default=200000, help="tier customers")
    parser.add_argument("--invoices", type=int, default=2000000, help="their invoices")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--others", type=int, default=20000,
                        help="size of the other data sets: key-moment customers, loyalty "
                        "customers (5 lots each), open tickets, campaign customers")
    parser.add_argument("--import-rows", type=int, default=100000)
    parser.add_argument("--crons", default=",".join(ALL_CRONS),
                        help="crons to run, in this order")
    parser.add_argument("--port", type=int, default=8194, help="HTTP port of the server")
    parser.add_argument("--gevent-port", type=int, default=8195)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit-time-real-cron", type=int, default=30)
    parser.add_argument("--limit-time-cpu", type=int, default=25)
    parser.add_argument("--limit-time-real", type=int, default=60)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per cron at most")
    parser.add_argument("--retry-limit", type=int, default=1200,
                        help="run the crons that hit a limit again under a server with this "
                        "time limit (real, cron, CPU) to measure their calls (0: no)")
    parser.add_argument("--retry-timeout", type=int, default=None,
                        help="seconds per cron at most in that second round (default: "
                        "--timeout)")
    parser.add_argument("--retry-crons", default=None,
                        help="the crons of that second round (default: those whose checks "
                        "failed after a limit was hit)")
    parser.add_argument("--retry-import", action="store_true",
                        help="the import too in the second round (its wizard steps validate "
                        "the whole file in the request: long at 100k rows)")
    parser.add_argument("--wake", type=int, default=5,
                        help="wake the cron worker up every N seconds while a cron has work "
                        "(the notification of ir.cron._trigger(); 0: never, see README)")
    parser.add_argument("--tier-night", choices=["steady", "first"], default="steady",
                        help="steady: a night after a complete one, ~5%% of the customers "
                        "changing tier (incremental); first: every tier customer reset to "
                        "new before the run (each changes tier: the heaviest night), what the "
                        "moments and dispatch runs need (their customers alone in the program)")
    parser.add_argument("--tier-batch", type=int, default=None,
                        help="tier customers per call (default: the engine's)")
    parser.add_argument("--expiry-batch", type=int, default=None,
                        help="lots per batch at most (default: the engine's; a call runs "
                        "batches as its time budget allows)")
    parser.add_argument("--moments-batch", type=int, default=None,
                        help="moments per batch at most (default: the engine's)")
    parser.add_argument("--import-chunk", type=int, default=None,
                        help="import rows per call (default: the job's)")
    parser.add_argument("--no-import-fallback", dest="import_fallback", action="store_false",
                        help="when the wizard's steps over XML-RPC hit the request limits, "
                        "stop there (default: run them in this process, then watch the job)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="generate the data and stop (no server)")
    return parser


def sub_options(options, **values):
    """The options another bench's functions read, at this bench's sizes."""
    return types.SimpleNamespace(odoo_src=options.odoo_src, db=options.db, rebuild=False,
                                 force=options.force, profile=False, **values)


# ---------------------------------------------------------------------------
# Data: the other benches' generators
# ---------------------------------------------------------------------------
def _own_marker(odoo, options, name, wanted, generate):
    """Generate one data set with ``generate(env)`` unless the marker says it is there."""
    with bench.environment(odoo, options.db) as env:
        if bench.read_marker(env.cr, name).get("params") == wanted:
            return False
        generate(env)
        bench.write_marker(env.cr, name, {"params": wanted})
    return True


def prepare(odoo, options):
    bench.prepare_database(odoo, options, MODULES)
    markers = {}
    o = options
    markers["tier"] = tier_recompute.prepare_data(odoo, sub_options(
        o, customers=o.customers, invoices=o.invoices, months=o.months))
    markers["moments"] = key_moments.prepare_data(odoo, sub_options(
        o, customers=o.others, hit_share=0.02))
    markers["dispatch"] = survey_dispatch.prepare_data(odoo, sub_options(o, customers=o.others))
    prepare_expiry(odoo, options, force=False)
    prepare_escalation(odoo, options, force=False)
    with bench.environment(odoo, options.db) as env:
        # the campaign's tier (level 97, no minimum) would top every tier customer: archived,
        # its customers keep it for the campaign (the dispatch reads vip_tier_id only)
        env.cr.execute("UPDATE vip_tier SET active = false WHERE id = %s",
                       [markers["dispatch"]["tier_id"]])
    return markers


def prepare_expiry(odoo, options, force):
    params = {"customers": options.others, "lots": options.others * 5, "lapsed": 0.2,
              "version": points_expiry.DATA_VERSION}
    wanted = {**params, "generated": force and time.time()}
    sub = sub_options(options, customers=params["customers"], lots=params["lots"], lapsed=0.2)
    if _own_marker(odoo, options, "production_expiry", params if not force else wanted,
                   lambda env: points_expiry.generate(env, sub)):
        points_expiry.analyze(odoo, options.db)


def prepare_escalation(odoo, options, force):
    params = {"tickets": options.others, "due": 0.15, "version": sla_escalation.DATA_VERSION}
    wanted = {**params, "generated": force and time.time()}
    sub = sub_options(options, tickets=params["tickets"], due=params["due"])
    _own_marker(odoo, options, "production_escalation", params if not force else wanted,
                lambda env: sla_escalation.generate(env, sub))


def import_file(options, stamp):
    """The customer file: half the rows always the same references (created by the first
    run, updated with a new city by the next ones), half new references of this run."""
    from openpyxl import Workbook  # noqa: PLC0415 (Odoo's Python has it)

    path = bench.DATA_DIR / f"production_import_{options.import_rows}.xlsx"
    bench.DATA_DIR.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("VIP customers")
    sheet.append(["Name", "Reference", "Email", "Street", "City"])
    half = options.import_rows // 2
    for n in range(options.import_rows):
        ref = f"{IMPORT_REF}{n:07d}" if n < half else f"{IMPORT_REF}{stamp}-{n:07d}"
        sheet.append([f"Imported Customer {n}", ref, f"imported.{ref.lower()}@example.com",
                      f"{n % 997} Bench Street", f"City {stamp}"])
    workbook.save(path)
    return path


# ---------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------
class Server:
    """``odoo-bin`` with workers, in its own process group (stopped by its pid)."""

    def __init__(self, options, limit=None):
        self.options = options
        self.limits = (limit or options.limit_time_real_cron, limit or options.limit_time_cpu,
                       limit or options.limit_time_real)
        self.logfile = bench.DATA_DIR / f"production-{options.db}-{self.limits[0]}.log"
        self.proc = None
        self.url = f"http://127.0.0.1:{options.port}"

    def start(self):
        o = self.options
        bench.DATA_DIR.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, str(o.odoo_src / "odoo-bin"),
               f"--addons-path={bench.addons_path(o.odoo_src)}", "-d", o.db,
               f"--db-filter=^{re.escape(o.db)}$", f"--http-port={o.port}",
               f"--gevent-port={o.gevent_port}", f"--workers={o.workers}",
               "--max-cron-threads=1", f"--limit-time-real-cron={self.limits[0]}",
               f"--limit-time-cpu={self.limits[1]}", f"--limit-time-real={self.limits[2]}",
               "--log-level=info", f"--logfile={self.logfile}"]
        cmd += [a for a in bench._odoo_cli_args(o) if a.startswith("--db_")]
        self.logfile.write_text("")
        bench.log("server: " + " ".join(cmd[2:]))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise bench.BenchError(f"the server exited ({self.proc.returncode}), see "
                                       f"{self.logfile}")
            try:
                version = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common").version()
                bench.log(f"server up (Odoo {version['server_version']}, pid {self.proc.pid})")
                return
            except OSError:
                time.sleep(2)
        raise bench.BenchError("the server did not answer within 300 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log_size(self):
        return self.logfile.stat().st_size if self.logfile.exists() else 0

    def log_since(self, offset):
        with open(self.logfile, encoding="utf-8", errors="replace") as log:
            log.seek(offset)
            return log.read()


def cron_ids(cr):
    ids = {}
    for key, xmlid in CRON_XMLIDS.items():
        module, name = xmlid.split(".")
        cr.execute("SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s "
                   "AND model = 'ir.cron'", [module, name])
        row = cr.fetchone()
        if row:
            ids[key] = row[0]
    return ids


def set_cron_code(cr, cron_id, code):
    cr.execute("""UPDATE ir_act_server SET code = %s
                   WHERE id = (SELECT ir_actions_server_id FROM ir_cron WHERE id = %s)""",
               [code, cron_id])


def trigger(cr, cron_id):
    """Due now: a row of ``ir_cron_trigger``, what ``ir.cron._trigger()`` writes (the
    ``ir_cron`` row itself is locked while the cron runs). Odoo's runner deletes it when it
    reschedules the cron (fully done or failed); returns its id."""
    cr.execute("INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, write_uid, "
               "create_date, write_date) VALUES (%s, NOW() AT TIME ZONE 'UTC', 1, 1, "
               "NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC') RETURNING id", [cron_id])
    return cr.fetchone()[0]


def postpone(odoo, options, cron_id):
    """The cron's next call tomorrow (unless it runs now), so that it does not come back
    during the next crons' runs (the escalation runs every 5 minutes)."""
    try:
        with odoo.sql_db.db_connect(options.db).cursor() as cr:
            cr.execute("""UPDATE ir_cron SET nextcall = NOW() AT TIME ZONE 'UTC' + INTERVAL '1 day'
                           WHERE id IN (SELECT id FROM ir_cron WHERE id = %s
                                        FOR NO KEY UPDATE SKIP LOCKED)""", [cron_id])
    except odoo.sql_db.psycopg2.OperationalError:  # changed by the runner meanwhile
        pass


def wake(odoo, db):
    """Wake the cron workers up: the notification ``ir.cron._trigger()`` sends
    (``_notifydb``: channel ``cron_trigger`` in the ``postgres`` database, where the
    workers listen)."""
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr.execute("SELECT pg_notify('cron_trigger', %s)", [db])


def watch(odoo, options, cron_id, first_progress, trigger_id, label):
    """Wait until Odoo's runner rescheduled the cron (fully done or failed); returns
    what was seen."""
    t0 = time.time()
    last_report = last_wake = 0
    seen = {}
    while True:
        with odoo.sql_db.db_connect(options.db).cursor() as cr:
            # a call that found its pass's time spent triggers the cron again for a new
            # pass: finished once no trigger of the cron is left, the bench's included
            cr.execute("SELECT failure_count, NOT EXISTS (SELECT 1 FROM ir_cron_trigger "
                       "WHERE id = %s OR cron_id = %s) FROM ir_cron WHERE id = %s",
                       [trigger_id, cron_id, cron_id])
            failures, rescheduled = cr.fetchone()
            cr.execute("""SELECT COUNT(*), SUM(done), (ARRAY_AGG(remaining ORDER BY id DESC))[1]
                            FROM ir_cron_progress WHERE cron_id = %s AND id > %s""",
                       [cron_id, first_progress])
            calls, done, remaining = cr.fetchone()
            # the trigger consumed: Odoo's runner saw the cron fully done or failed (a
            # call that leaves work, or 10 calls in a row, keep it: called again asap)
            finished = rescheduled
        seen.update(started=calls, done=done or 0, remaining=remaining, failures=failures)
        elapsed = time.time() - t0
        if options.wake and elapsed - last_wake >= options.wake:
            last_wake = elapsed
            wake(odoo, options.db)
        if finished or elapsed > options.timeout:
            seen.update(wall=elapsed, finished=bool(finished))
            return seen
        if elapsed - last_report >= 60:
            last_report = elapsed
            bench.log(f"    {label}: {elapsed:.0f} s, {calls} calls started, {done or 0:,} done, "
                      f"{remaining if remaining is not None else '?'} remaining")
        time.sleep(3)


def parse_log(text, cron_id):
    """What the server log says about ``cron_id``: the calls' times, the calls killed by
    a limit (the cron worker was running one of the cron's calls when the master killed it
    or it hit its CPU limit), the idle cron workers killed (no job running: the watchdog
    also counts the worker's idle sleep), failures and error lines."""
    calls, events, errors, killed = [], {}, [], []
    running = {}  # worker pid -> (cron id of the call it runs, its start)
    started = {}  # the same until the runner's commit after the call
    committed = []
    dead = set()
    for line in text.splitlines():
        head = LOG_LINE.match(line)
        if not head:
            continue
        pid, level = int(head.group(1)), head.group(2)
        if (job := JOB_EVENT.search(line)):
            job_id, what = int(job.group(1)), job.group(2)
            if what == "starting":
                running[pid] = (job_id, log_time(line))
                started[pid] = (job_id, log_time(line))
            else:
                running.pop(pid, None)
            if job_id == cron_id and what.startswith("done"):
                calls.append(float(job.group(3)))
            elif job_id == cron_id and what == "timed out":
                events["failed after 3 timeouts"] = events.get("failed after 3 timeouts", 0) + 1
            elif job_id == cron_id and what != "starting":
                events["call failed"] = events.get("call failed", 0) + 1
            continue
        if (job := PROCESSED.search(line)):
            # logged after the runner's commit (mail's precommit hooks: tracking values):
            # the call's whole time, which "done in" leaves out
            job_id, since = started.pop(pid, (None, None))
            if job_id == cron_id:
                committed.append((log_time(line) - since).total_seconds())
            continue
        if (alive := WORKER_ALIVE.search(line)):
            running.pop(int(alive.group(1)), None)
            continue
        if (kill := _kill(line, running, dead, cron_id)) is not None:
            key, duration = kill
            if key:
                events[key] = events.get(key, 0) + 1
            if duration is not None:
                killed.append(duration)
        elif THREAD_LIMIT.search(line):
            events["virtual real time limit"] = events.get("virtual real time limit", 0) + 1
        elif level in ("ERROR", "CRITICAL"):
            errors.append(line)
    return calls, committed, events, errors, killed


def _kill(line, running, dead, cron_id):
    """``(event, seconds since the call's start)`` of a worker killed by a limit (event
    None: another cron's call, or a kill logged again), None for any other line."""
    for what, pattern in KILLS:
        if (kill := pattern.search(line)):
            pid = int(kill.group(1))
            if pid in dead:
                return None, None  # the master logs a kill again until the worker is gone
            dead.add(pid)
            victim, since = running.pop(pid, (None, None))
            if victim == cron_id:
                return f"call killed ({what} limit)", (log_time(line) - since).total_seconds()
            return (f"idle worker killed ({what} limit)" if victim is None else None), None
    return None


def log_time(line):
    return datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")


def run_cron(odoo, options, server, key, cron_id, code, before, after):
    """One cron under the server: trigger, watch, read the log, check the results."""
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_cron_progress")
        first_progress = cr.fetchone()[0]
    offset = server.log_size()
    bench.log(f"{key}: preparing the check")
    expected = before()
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr.execute("""SELECT a.code FROM ir_act_server a JOIN ir_cron c
                        ON c.ir_actions_server_id = a.id WHERE c.id = %s""", [cron_id])
        original_code = cr.fetchone()[0]
        if code:
            set_cron_code(cr, cron_id, code)
    bench.log(f"{key}: cron {cron_id} due now ({code or original_code.strip()})")
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        trigger_id = trigger(cr, cron_id)
    wake(odoo, options.db)
    load = os.getloadavg()[0]
    seen = watch(odoo, options, cron_id, first_progress, trigger_id, key)
    load = (load, os.getloadavg()[0])
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr.execute("SELECT COUNT(*), COUNT(*) FILTER (WHERE done > 0) FROM ir_cron_progress "
                   "WHERE cron_id = %s AND id > %s", [cron_id, first_progress])
        seen["progress_rows"], seen["progress_done_rows"] = cr.fetchone()
        if code:
            set_cron_code(cr, cron_id, original_code)
    postpone(odoo, options, cron_id)
    time.sleep(1)
    calls, committed, events, errors, killed = parse_log(server.log_since(offset), cron_id)
    checks = after(expected) if seen.get("finished") else [
        ("finished within the timeout", False, f"not finished after {options.timeout} s")]
    bench.log(f"{key}: {len(calls)} calls in {seen.get('wall', 0):.0f} s; "
              + "; ".join(f"{'ok' if ok else 'FAIL'} {label}" for label, ok, _t in checks))
    return {"key": key, "cron_id": cron_id, "calls": calls, "committed": committed,
            "events": events, "errors": errors,
            "killed": killed, "checks": checks, "load": load, **seen}


def safe_run(odoo, options, server, key, cron_id, phase):
    """:func:`run_cron`, an error of the bench itself reported as the cron's failed check."""
    try:
        return run_cron(odoo, options, server, key, cron_id, *phase)
    except Exception as exc:  # noqa: BLE001 - reported, the other crons still run
        bench.log(f"{key}: the bench failed: {exc!r}")
        return {"key": key, "cron_id": cron_id, "calls": [], "committed": [], "events": {},
                "errors": [], "killed": [], "load": (os.getloadavg()[0],) * 2,
                "checks": [("the bench ran", False, repr(exc)[:300])]}


# ---------------------------------------------------------------------------
# Per cron: expected results (independent SQL) and checks
# ---------------------------------------------------------------------------
def query(odoo, options, sql, params=None):
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr.execute(sql, params or {})
        return cr.fetchall()


def moments_phase(odoo, options, markers):
    marker = markers["moments"]
    sub = sub_options(options, customers=options.others, hit_share=0.02)

    def before():
        key_moments.reset_night(odoo, sub, marker)
        return key_moments.floor_run(odoo, sub, marker, repeat=1)["pairs"]

    def after(floor_pairs):
        engine = key_moments.engine_results(odoo, sub, marker)
        same = engine["pairs"] == floor_pairs
        day_ok = marker["day"] == datetime.date.today().isoformat()
        return [
            ("the night's (rule, customer) pairs equal key_moments.py's floor query", same,
             f"{len(engine['pairs']):,} by the cron, {len(floor_pairs):,} by the floor, "
             f"{len(engine['pairs'] - floor_pairs)} only in the cron, "
             f"{len(floor_pairs - engine['pairs'])} only in the floor"
             + ("" if day_ok else f" (data of the night {marker['day']}: --rebuild)")),
            ("every moment has its task", engine["tasks"] == engine["moments"] > 0,
             f"{engine['tasks']:,} tasks for {engine['moments']:,} moments"),
        ]

    code = (f"model._cron_run_key_moments(batch_size={options.moments_batch})"
            if options.moments_batch else None)
    return code, before, after


def dispatch_phase(odoo, options, markers):
    marker = markers["dispatch"]

    def before():
        with bench.environment(odoo, options.db) as env:
            env.cr.execute("UPDATE res_partner SET vip_tier_id = %s WHERE email LIKE %s",
                           [marker["tier_id"], SURVEY_EMAILS])
        survey_dispatch.reset(odoo, sub_options(options, customers=options.others), marker)
        [(eligible,)] = query(odoo, options, """
            SELECT COUNT(*) FROM res_partner WHERE vip_tier_id = %(tier_id)s AND active
               AND email IS NOT NULL AND vip_company_id = %(company_id)s""", marker)
        return eligible

    def after(eligible):
        [(invitations, partners, mails)] = query(odoo, options, """
            SELECT COUNT(*), COUNT(DISTINCT ui.partner_id),
                   (SELECT COUNT(*) FROM mail_mail m JOIN mail_message mm
                        ON mm.id = m.mail_message_id
                     WHERE mm.model = 'survey.user_input' AND mm.res_id IN (
                           SELECT id FROM survey_user_input WHERE vip_campaign_id = %(campaign)s))
              FROM survey_user_input ui WHERE ui.vip_campaign_id = %(campaign)s""",
                                                 {"campaign": marker["campaign_id"]})
        [(in_progress,)] = query(odoo, options, "SELECT run_in_progress FROM "
                                 "vip_survey_campaign WHERE id = %s", [marker["campaign_id"]])
        return [
            ("one invitation per customer of the campaign",
             invitations == partners == eligible > 0,
             f"{invitations:,} invitations to {partners:,} customers, {eligible:,} eligible"),
            ("invitations mailed (queued mail.mail)", mails == invitations > 0,
             f"{mails:,} mails queued"),
            ("campaign run closed", not in_progress, f"run_in_progress = {in_progress}"),
        ]

    return None, before, after


def escalation_phase(odoo, options, markers):
    def before():
        prepare_escalation(odoo, options, force=not due_now())
        due = [row[0] for row in query(odoo, options, """
            SELECT id FROM vip_service_ticket WHERE next_escalation_date <= NOW() AT TIME ZONE 'UTC'
               AND NOT is_closed AND sla_paused_since IS NULL AND active""")]
        [(start,)] = query(odoo, options, "SELECT NOW() AT TIME ZONE 'UTC'")
        return due, start

    def due_now():
        return query(odoo, options, """SELECT COUNT(*) FROM vip_service_ticket
            WHERE next_escalation_date <= NOW() AT TIME ZONE 'UTC' AND NOT is_closed
              AND sla_paused_since IS NULL AND active AND number LIKE 'BENCH-%%'""")[0][0]

    def after(expected):
        due, start = expected
        [(left,)] = query(odoo, options, """SELECT COUNT(*) FROM vip_service_ticket
            WHERE id = ANY(%s) AND next_escalation_date <= %s AND NOT is_closed""", [due, start])
        [(escalated, steps)] = query(odoo, options, """
            SELECT COUNT(DISTINCT ticket_id), COUNT(*) FROM vip_service_ticket_escalation
             WHERE ticket_id = ANY(%s) AND create_date >= %s""", [due, start])
        return [
            ("every ticket due at the start escalated", escalated == len(due) > 0 and not left,
             f"{len(due):,} due, {escalated:,} with steps fired ({steps:,} steps), {left:,} "
             "still due"),
        ]

    return None, before, after


# The expiries of an earlier run undone (our own ledger, on the bench's database): the
# lots get their points back, the balances too, the expiry moves go. (Generating the lots
# again would delete the customers: a foreign-key probe of the 2.2M moves for each.)
UNDO_EXPIRY = """
    UPDATE vip_loyalty_move l SET remaining_points = l.remaining_points + a.points,
                                  expired = false
      FROM vip_loyalty_move_allocation a JOIN vip_loyalty_move m ON m.id = a.move_id
     WHERE m.move_type = 'expire' AND a.lot_id = l.id;
    UPDATE vip_loyalty_account acc SET balance = acc.balance + s.points
      FROM (SELECT account_id, -SUM(points) AS points FROM vip_loyalty_move
             WHERE move_type = 'expire' GROUP BY account_id) s
     WHERE acc.id = s.account_id;
    DELETE FROM vip_loyalty_move_allocation
     WHERE move_id IN (SELECT id FROM vip_loyalty_move WHERE move_type = 'expire');
    DELETE FROM vip_loyalty_move WHERE move_type = 'expire';
"""


def expiry_phase(odoo, options, markers):
    lapsed_sql = """SELECT COUNT(*), COALESCE(SUM(remaining_points), 0) FROM vip_loyalty_move
                     WHERE is_lot AND remaining_points > 0 AND expiry_date <= CURRENT_DATE"""

    def before():
        if not query(odoo, options, lapsed_sql)[0][0]:
            bench.log("expiry: no lapsed lot left by an earlier run: its expiries undone")
            with bench.environment(odoo, options.db) as env:
                env.cr.execute(UNDO_EXPIRY)
        [(lots, points)] = query(odoo, options, lapsed_sql)
        [(start,)] = query(odoo, options, "SELECT NOW() AT TIME ZONE 'UTC'")
        return lots, points, start

    def after(expected):
        lots, points, start = expected
        [(left, _points_left)] = query(odoo, options, lapsed_sql)
        [(moves, expired)] = query(odoo, options, """
            SELECT COUNT(*), COALESCE(-SUM(points), 0) FROM vip_loyalty_move
             WHERE move_type = 'expire' AND create_date >= %s""", [start])
        [(wrong,)] = query(odoo, options, """
            SELECT COUNT(*) FROM vip_loyalty_account a
              LEFT JOIN (SELECT account_id, SUM(remaining_points) AS left_points
                           FROM vip_loyalty_move WHERE is_lot GROUP BY account_id) l
                ON l.account_id = a.id
             WHERE a.balance <> COALESCE(l.left_points, 0)""")
        return [
            ("lots expired = lapsed lots counted before", moves == lots > 0 and not left,
             f"{moves:,} expiry moves for {lots:,} lapsed lots, {left:,} lapsed left"),
            ("points expired = lapsed points counted before", expired == points,
             f"{int(expired):,} of {int(points):,} points"),
            ("every balance = the points left in its lots", not wrong,
             f"{wrong:,} accounts differ"),
        ]

    code = (f"model._cron_expire_points(batch_size={options.expiry_batch})"
            if options.expiry_batch else None)
    return code, before, after


TIER_CHECK = """
WITH tiers AS (
    SELECT id, code, level, min_spend, min_purchase_count FROM vip_tier
     WHERE active AND company_id = %(company)s
), agg AS (
    SELECT m.partner_id,
           SUM(m.amount_untaxed_signed) AS spend,
           COUNT(*) FILTER (WHERE m.move_type = 'out_invoice') AS invoices
      FROM account_move m
     WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
       AND m.invoice_date BETWEEN %(start)s AND %(today)s
     GROUP BY m.partner_id
), expected AS (
    SELECT p.id, p.vip_tier_id, p.vip_spend, p.vip_purchase_count, agg.spend, agg.invoices,
           (SELECT t.id FROM tiers t WHERE COALESCE(agg.spend, 0) >= t.min_spend
               AND COALESCE(agg.invoices, 0) >= t.min_purchase_count
             ORDER BY t.level DESC LIMIT 1) AS tier
      FROM res_partner p LEFT JOIN agg ON agg.partner_id = p.id
     WHERE p.ref = %(ref)s
)
SELECT COUNT(*),
       COUNT(*) FILTER (WHERE vip_tier_id IS DISTINCT FROM tier),
       COUNT(*) FILTER (WHERE ROUND(COALESCE(vip_spend, 0), 2) <> ROUND(COALESCE(spend, 0), 2)),
       COUNT(*) FILTER (WHERE COALESCE(vip_purchase_count, 0) <> COALESCE(invoices, 0)),
       COUNT(*) FILTER (WHERE tier IS NOT NULL),
       (ARRAY_AGG(id ORDER BY id) FILTER (WHERE vip_tier_id IS DISTINCT FROM tier))[1:5]
  FROM expected
"""


def reset_tier_customers(odoo, options):
    """The tier customers as new (no result stored), a new run for the company: every
    customer is evaluated and changes tier through the APIs (the heaviest night)."""
    from odoo.addons.vip_customer.models.vip_tier_engine import SQL_COLUMNS  # noqa: PLC0415

    columns = dict.fromkeys(["vip_tier_id", "vip_tier_since", *SQL_COLUMNS])
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        cr.execute(f"""UPDATE res_partner SET {", ".join(
                           f"{c} = {'false' if c == 'vip_locked' else 'NULL'}" for c in columns)}
                        WHERE ref = %s AND vip_company_id IS NOT NULL""", [tier_recompute.REF])
        cr.execute("DELETE FROM vip_tier_history WHERE partner_id IN (SELECT id FROM res_partner "
                   "WHERE ref = %s)", [tier_recompute.REF])
        cr.execute("UPDATE res_company SET vip_recompute_cursor = 0, vip_recompute_date = NULL")
        cr.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'res_company' "
                   "AND column_name = 'vip_recompute_full'")
        if cr.fetchone():
            cr.execute("UPDATE res_company SET vip_recompute_full = true")


TIER_LEVELS = """
SELECT p.id, t.level FROM res_partner p JOIN vip_tier t ON t.id = p.vip_tier_id
 WHERE p.id = ANY(%s)
"""


def steady_tier_night(odoo, options, marker):
    """A night after a complete one: the run of the stored state dated yesterday, ~5% of the
    customers brought to a tier change today (``tier_recompute.advance_night``: fresh invoices
    lift 2.5% over the next tier's entry, refunds drop 2.5% whose grace ends today). Returns
    ``{partner id: expected tier level}`` of those customers."""
    today = datetime.date.today()
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        cr.execute("SELECT COUNT(*) FROM res_partner WHERE ref = %s AND vip_eval_date IS NULL",
                   [tier_recompute.REF])
        [never] = cr.fetchone()
        cr.execute("SELECT COUNT(*) FROM res_company WHERE vip_recompute_cursor <> 0")
        [running] = cr.fetchone()
        if never or running:
            raise bench.BenchError(
                f"tier: {never:,} customers never evaluated, {running} runs not complete: a "
                "steady night follows a complete one (run --tier-night first once)")
        # a re-run the same day: the changes of the earlier one go (lines cascade)
        cr.execute("DELETE FROM account_move WHERE ref = %s AND invoice_date = %s",
                   [tier_recompute.STEADY_REF, today])
        cr.execute("UPDATE res_company SET vip_recompute_date = %s, vip_recompute_cursor = 0, "
                   "vip_recompute_full = false", [today - datetime.timedelta(days=1)])
    up, down = tier_recompute.advance_night(odoo, options, marker, today)
    rows = query(odoo, options, """
        SELECT commercial_partner_id, move_type FROM account_move
         WHERE ref = %s AND invoice_date = %s""", [tier_recompute.STEADY_REF, today])
    moved = {pid: (1 if kind == "out_invoice" else -1) for pid, kind in rows}
    levels = dict(query(odoo, options, TIER_LEVELS, [list(moved)]))
    bench.log(f"tier: steady night, {up:,} customers over the next tier's entry, {down:,} "
              "below their retention with the grace ending today")
    return {pid: levels[pid] + step for pid, step in moved.items() if pid in levels}


def tier_phase(odoo, options, markers):
    marker = markers["tier"]
    today = datetime.date.today()
    steady = options.tier_night == "steady"

    def before():
        """First night: nothing (the tier customers were reset before the server started:
        as new customers they have no tier, so the key-moment rules leave them alone).
        Steady night: the day's changes, and the tier each changed customer must reach."""
        return steady_tier_night(odoo, options, marker) if steady else None

    def after(expected):
        start = tier_recompute.months_ago(today, 12)
        [(customers, tier_diff, spend_diff, count_diff, with_tier, sample)] = query(
            odoo, options, TIER_CHECK, {"company": marker["company_id"], "start": start,
                                        "today": today, "ref": tier_recompute.REF})
        [(history,)] = query(odoo, options, "SELECT COUNT(*) FROM vip_tier_history h JOIN "
                             "res_partner p ON p.id = h.partner_id WHERE p.ref = %s "
                             "AND h.date = %s", [tier_recompute.REF, today])
        [(unfinished,)] = query(odoo, options, """
            SELECT COUNT(*) FROM res_company WHERE vip_recompute_date IS DISTINCT FROM
                   CURRENT_DATE OR vip_recompute_cursor <> 0""")
        checks = [("today's run complete in every company", not unfinished,
                   f"{unfinished} companies with their run not complete")]
        if steady:
            levels = dict(query(odoo, options, TIER_LEVELS, [list(expected)]))
            wrong = sorted(pid for pid, level in expected.items() if levels.get(pid) != level)
            checks.append(("every customer brought to a change today has the tier expected",
                           expected and not wrong,
                           f"{len(expected):,} changes expected, {len(wrong):,} differ "
                           f"{wrong[:5] or ''}, {history:,} tier history rows today"))
        else:
            checks.append(("every tier customer evaluated: stored tier = the tier of one raw "
                           "aggregate", customers == marker["customers"] and not tier_diff,
                           f"{customers:,} customers, {with_tier:,} with a tier, {tier_diff:,} "
                           f"differ {sample or ''}, {history:,} tier history rows today"))
        checks.append(("stored spend and purchase count of every customer = the raw aggregate",
                       customers == marker["customers"] and not spend_diff and not count_diff,
                       f"{customers:,} customers, spend differs for {spend_diff:,}, count for "
                       f"{count_diff:,}"))
        return checks

    code = (f"model._cron_recompute_tiers(batch_size={options.tier_batch})"
            if options.tier_batch else None)
    return code, before, after


def import_phase(odoo, options, markers, server):  # noqa: C901 - the wizard steps and their fallback
    """The customer file through the wizard over XML-RPC, then the job by the cron."""
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr.execute("SELECT 1 FROM ir_model WHERE model = 'vip.import.job'")
        if not cr.fetchone():
            return None  # stub: IMP's background import job has not landed
    state = {}

    def before():
        offset = server.log_size()
        stamp = time.strftime("%Y%m%d%H%M%S")
        path = import_file(options, stamp)
        bench.log(f"import: {options.import_rows:,} rows in {path} ({path.stat().st_size:,} "
                  "bytes)")
        common = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/common")
        uid = common.authenticate(options.db, "admin", "admin", {})
        models = xmlrpc.client.ServerProxy(f"{server.url}/xmlrpc/2/object", allow_none=True)

        def call(model, method, *args, **kw):
            return models.execute_kw(options.db, uid, "admin", model, method, list(args), kw)

        with odoo.sql_db.db_connect(options.db).cursor() as cr:
            # a job left by an interrupted run would go first (oldest first)
            cr.execute("UPDATE vip_import_job SET state = 'cancelled' "
                       "WHERE state IN ('queued', 'checking', 'running') RETURNING id")
            if cr.rowcount:
                bench.log(f"import: jobs of an earlier run cancelled: {cr.fetchall()}")
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM vip_import_job")
            [first_job] = cr.fetchone()
        data = base64.b64encode(path.read_bytes())
        wizard = call("vip.customer.import", "create", {"file": data.decode(),
                                                        "file_name": path.name})
        local = None

        def step(name):
            """One wizard button over XML-RPC; with the fallback, in this process when the
            request limits stop it."""
            nonlocal local
            t0 = time.perf_counter()
            try:
                if local is None:
                    call("vip.customer.import", name, [wizard])
                    state[name] = (time.perf_counter() - t0, "ok")
                    bench.log(f"import: {name} over XML-RPC in {state[name][0]:.1f} s")
                    return True
            except (xmlrpc.client.Fault, xmlrpc.client.ProtocolError, OSError) as exc:
                state[name] = (time.perf_counter() - t0, f"{type(exc).__name__}: "
                               f"{str(exc)[:300]}")
                bench.log(f"import: {name} failed after {state[name][0]:.0f} s: {state[name][1]}")
                if not options.import_fallback:
                    return False
            # the request limits stopped the wizard: this process goes on (no limit), so
            # that the background job can still be shown under the cron limits
            with bench.environment(odoo, options.db) as env:
                Wizard = env["vip.customer.import"].with_user(uid)
                if local is None:
                    bench.log("import: the wizard's steps in this process instead")
                    local = Wizard.create({"file": data, "file_name": path.name}).id
                    if name == "action_import":
                        Wizard.browse(local).action_check()
                        env.cr.commit()
                        wait_checked(local)
                t0 = time.perf_counter()
                getattr(Wizard.browse(local), name)()
                env.cr.commit()
            state[f"{name} (in this process)"] = (time.perf_counter() - t0, "ok")
            bench.log(f"import: {name} in this process in {time.perf_counter() - t0:.1f} s")
            wake(odoo, options.db)
            return True

        def wait_checked(wizard_id):
            """A large file is checked by a job of the import cron: wait for its end."""
            t0 = time.perf_counter()
            while True:
                [(wizard_state, job_state, error)] = query(odoo, options, """
                    SELECT w.state, j.state, j.error_message FROM vip_customer_import w
                      LEFT JOIN vip_import_job j ON j.id = w.job_id WHERE w.id = %s""",
                    [wizard_id])
                elapsed = time.perf_counter() - t0
                if wizard_state == "checked" or job_state in ("failed", "cancelled") or (
                        elapsed > options.timeout):
                    ok = wizard_state == "checked"
                    state["check job"] = (elapsed, "ok" if ok else
                                          f"wizard {wizard_state}, job {job_state}: {error}")
                    bench.log(f"import: the check job ended in {elapsed:.0f} s: "
                              f"{state['check job'][1]}")
                    return ok
                wake(odoo, options.db)
                time.sleep(3)

        if step("action_check") and wait_checked(local or wizard):
            step("action_import")
        state["first_job"] = first_job
        state["stamp"] = stamp
        state["http_kills"] = len(HTTP_KILL.findall(server.log_since(offset)))

    def job_row(cr):
        cr.execute("""SELECT id, state, row_count, rows_done, create_count, update_count,
                             error_message FROM vip_import_job WHERE id > %s
                       ORDER BY id DESC LIMIT 1""", [state.get("first_job", 0)])
        return cr.fetchone()

    def after(_expected):
        checks = [(f"wizard {step} over XML-RPC within the request limits",
                   state.get(step, (0, "not run"))[1] == "ok",
                   (f"{state[step][0]:.1f} s: {state[step][1]}" if step in state else "not run")
                   + (f" (in this process: {state[local][0]:.1f} s)" if local in state else "")
                   + (f"; HTTP workers killed at the {options.limit_time_real} s limit: "
                      f"{state['http_kills']}" if step == "action_check"
                      and state.get("http_kills") else ""))
                  for step, local in (("action_check", "action_check (in this process)"),
                                      ("action_import", "action_import (in this process)"))]
        checks.append(("the file checked in the background, no row in error",
                       state.get("check job", (0, ""))[1] == "ok",
                       (f"{state['check job'][0]:.0f} s: {state['check job'][1]}"
                        if "check job" in state else "not run")))
        with odoo.sql_db.db_connect(options.db).cursor() as cr:
            row = job_row(cr)
            cr.execute("SELECT COUNT(*) FROM res_partner WHERE ref LIKE %s AND city = %s",
                       [IMPORT_REF + "%", f"City {state.get('stamp')}"])
            written = cr.fetchone()[0]
        if row:
            _id, job_state, *counts, error = row
            rows, done, created, updated = (n or 0 for n in counts)
            checks.append(("the job done, every row written once",
                           job_state == "done" and rows == done == options.import_rows
                           == created + updated == written,
                           f"job {_id} {job_state}: {done:,}/{rows:,} rows, {created:,} created, "
                           f"{updated:,} updated, {written:,} customers with this run's values"
                           + (f"; {error}" if error else "")))
        else:
            checks.append(("a job queued", False, "no vip.import.job created"))
        return checks

    code = (f"model._cron_process_jobs(chunk_size={options.import_chunk})"
            if options.import_chunk else None)
    return code, before, after


PHASES = {
    "moments": moments_phase,
    "dispatch": dispatch_phase,
    "escalation": escalation_phase,
    "expiry": expiry_phase,
    "tier": tier_phase,
}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def postpone_other_crons(odoo, options, keep):
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr.execute("UPDATE ir_cron SET nextcall = NOW() AT TIME ZONE 'UTC' + INTERVAL '1 day' "
                   "WHERE active")
        cr.execute("DELETE FROM ir_cron_trigger")
        cr.execute("UPDATE ir_cron SET failure_count = 0, first_failure_date = NULL "
                   "WHERE id = ANY(%s)", [list(keep)])


def main(argv=None):
    options = bench.parse_args(build_parser(), argv)
    crons = [c.strip() for c in options.crons.split(",") if c.strip()]
    unknown = set(crons) - set(ALL_CRONS)
    if unknown:
        raise bench.BenchError(f"unknown crons {sorted(unknown)}: choose among {ALL_CRONS}")
    t_all = time.time()
    odoo = bench.start_odoo(options)
    markers = prepare(odoo, options)
    if options.prepare_only:
        bench.log("data ready (--prepare-only)")
        return
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        ids = cron_ids(cr)
    postpone_other_crons(odoo, options, ids.values())
    if options.tier_night == "steady" and {"moments", "dispatch"} & set(crons):
        # the tier customers keep their tiers, and the key-moment rules of the bench (tiers
        # A, B, C) then select them too: 260,000 moments instead of ~400
        raise bench.BenchError(
            "--tier-night steady keeps the tier customers in the program, where the bench's "
            "key-moment rules select them: run moments and dispatch with --tier-night first "
            "(their customers alone in the program), the tier night in a run of its own")
    if options.tier_night == "first":
        reset_tier_customers(odoo, options)
    odoo.sql_db.close_all()
    server = Server(options)
    results, stub = [], None
    try:
        server.start()
        for key in crons:
            if key == "tier" and results and options.tier_night == "first":
                reset_tier_customers(odoo, options)
            if key == "import":
                phase = import_phase(odoo, options, markers, server)
                if phase is None or "import" not in ids:
                    stub = ("import: STUB - the model vip.import.job / cron "
                            f"{CRON_XMLIDS['import']} is not in this database (IMP's "
                            "background import not landed): the 100k-row import is not run")
                    bench.log(stub)
                    continue
            else:
                phase = PHASES[key](odoo, options, markers)
            results.append(safe_run(odoo, options, server, key, ids[key], phase))
    finally:
        server.stop()
    retried = []
    over = [c.strip() for c in options.retry_crons.split(",") if c.strip()] if (
        options.retry_crons) else [
        r["key"] for r in results
        if (r["key"] != "import" or options.retry_import)
        and not all(ok for _l, ok, _t in r["checks"])
        and any("killed" in e or "timeouts" in e for e in r["events"])]
    if options.retry_timeout:
        options.timeout = options.retry_timeout
    if options.retry_limit and over:
        # the same crons under limits they fit in: the time of a call, and their results
        bench.log(f"again with the limits at {options.retry_limit} s: {', '.join(over)}")
        postpone_other_crons(odoo, options, ids.values())
        retry = Server(options, limit=options.retry_limit)
        try:
            retry.start()
            for key in over:
                if key == "tier" and options.tier_night == "first":
                    reset_tier_customers(odoo, options)
                phase = (import_phase(odoo, options, markers, retry) if key == "import"
                         else PHASES[key](odoo, options, markers))
                retried.append(safe_run(odoo, options, retry, key, ids[key], phase))
        finally:
            retry.stop()
    report(options, results, retried, stub, server, time.time() - t_all)


def report(options, results, retried, stub, server, elapsed):
    print()
    print(f"production_mode: db {options.db}, {options.customers:,} tier customers / "
          f"{options.invoices:,} invoices, {options.others:,} each of key-moment customers, "
          f"loyalty customers ({options.others * 5:,} lots), tickets, campaign customers; "
          f"import {options.import_rows:,} rows")
    print(f"server: odoo-bin --workers={options.workers} --max-cron-threads=1 "
          f"--limit-time-real-cron={options.limit_time_real_cron} "
          f"--limit-time-cpu={options.limit_time_cpu} --limit-time-real={options.limit_time_real}"
          f" (log: {server.logfile})")
    batches = {"tier": options.tier_batch or "default", "expiry": options.expiry_batch or "default",
               "moments": options.moments_batch or "default",
               "import": options.import_chunk or "default"}
    rows = []
    for limit, runs in ((options.limit_time_real_cron, results), (options.retry_limit, retried)):
        for r in runs:
            calls, whole = r["calls"], r["committed"]
            rows.append([r["key"], f"{limit} s", batches.get(r["key"], "default"), len(calls),
                         r.get("progress_rows", 0),
                         bench.fmt_seconds(max(calls) if calls else None),
                         bench.fmt_seconds(sum(calls) / len(calls) if calls else None),
                         bench.fmt_seconds(max(whole) if whole else None),
                         bench.fmt_seconds(r.get("wall")),
                         ", ".join(f"{k} x{v}" for k, v in r["events"].items()) or "none",
                         "ok" if all(ok for _l, ok, _t in r["checks"]) else "FAIL"])
    bench.print_table(["cron", "limit", "batch", "calls done", "calls started", "longest call",
                       "mean call", "longest with commit", "wall time", "limits hit / failures",
                       "checks"], rows)
    for r in results + retried:
        if r["killed"]:
            print(f"{r['key']}: calls killed after "
                  f"{', '.join(f'{k:.0f} s' for k in r['killed'])} from their start (the "
                  "worker's idle sleep before a call counts in the limit too)")
    print("load average (1 min) at the start / end of each cron: " + ", ".join(
        f"{r['key']} {r['load'][0]:.1f}/{r['load'][1]:.1f}" for r in results + retried))
    print("Checks:")
    for limit, runs in ((options.limit_time_real_cron, results), (options.retry_limit, retried)):
        for r in runs:
            for label, ok, text in r["checks"]:
                print(f"  {'PASS' if ok else 'FAIL'}  [{limit} s] {r['key']}: {label}: {text}")
            for line in r["errors"][:3]:
                print(f"        log: {line[:240]}")
    if stub:
        print(f"  SKIP  {stub}")
    print(f"(whole bench run: {elapsed:.0f} s)")
    ok = results and all(ok for r in results for _l, ok, _t in r["checks"])
    print(f"RESULT production_mode {'ok' if ok else 'fail'}", flush=True)


if __name__ == "__main__":
    bench.main_wrapper(main)
