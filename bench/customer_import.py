"""Benchmark of the VIP customer import (vip_customer, wizard ``vip.customer.import``).

    python bench/customer_import.py --odoo-src PATH --db NAME \
        [--rows 100000 --base-step 2000] [--rebuild] [--profile]

Run it with the Odoo's own Python. It creates the database when missing (see bench/README.md),
creates ``--rows``/2 existing customers once through the ORM (reused by the next runs), and
measures, each on a fresh copy of that database (so both start from the same state):

(a) our import of an .xlsx of ``--rows`` rows (half new customers, half updates of the existing
    ones with changed values), as a VIP manager: the wizard's dry-run Check, then Import, then,
    when the background job model ``vip.import.job`` exists, its cron
    ``_cron_process_jobs`` called until the job is done (a commit after each call, as Odoo's
    cron runner does);
(b) Odoo's own import (``base_import.import.execute_import``, what an admin uses otherwise)
    of the same rows as CSV into the same fields, the updates by the external ids an export
    gives, in the web client's steps of ``--base-step`` rows, one committed transaction each
    (the client's *Test* pass, which re-runs every step in a rolled-back transaction, is
    measured too but not counted in the ratio).

After each run the database must hold what the file says: every row's customer exactly once
with every imported value (all rows compared), the tier changes in the tier history.
It prints a table, the targets with PASS/FAIL and, last, ``RATIO customer_import <(a)/(b)>``.
Exit status 0 after the report whatever the targets, non-zero on errors.
"""

import base64
import contextlib
import csv
import datetime
import io
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402

BENCH = "customer_import"
MODULES = ["vip_customer", "base_import"]
DATA_VERSION = 1
FILE_VERSION = 1
XMLID_MODULE = "__export__"  # what an export of the customers gives them
TARGET_RATIO = 1.5
TARGET_MEMORY = 500 * 1024**2
TIERS = {"A": "A - Platinum", "B": "B - Gold", "C": "C - Valued"}
CITIES = ["Shanghai", "Beijing", "Hangzhou", "Shenzhen", "Guangzhou", "Chengdu", "Nanjing",
          "Wuhan", "Xiamen", "Suzhou", "Tianjin", "Qingdao", "Dalian", "Kunming", "Xi'an",
          "Changsha", "Harbin", "Ningbo", "Fuzhou", "Hefei"]
CHANNELS = ["phone", "email", "sms", "wechat"]
# file columns: our header, res.partner field (the base_import mapping), expected-state key
COLUMNS = [
    ("Name", "name", "name"),
    ("Reference", "ref", "ref"),
    ("Email", "email", "email"),
    ("Phone", "phone", "phone"),
    ("Street", "street", "street"),
    ("City", "city", "city"),
    ("Zip", "zip", "zip"),
    ("Country", "country_id", "country"),
    ("Tier", "vip_tier_id", "tier"),
    ("Birthday", "vip_birthday", "birthday"),
    ("Preferred Channel", "vip_preferred_channel", "channel"),
]


def build_parser():
    parser = bench.new_parser(__doc__.split("\n\n")[0])
    bench.add_common_args(parser)
    parser.add_argument("--rows", type=int, default=100000,
                        help="rows of the file: half new customers, half updates")
    parser.add_argument("--base-step", type=int, default=2000,
                        help="rows per execute_import call of (b) (the web client's default)")
    parser.add_argument("--max-cron-calls", type=int, default=10000,
                        help="give up on a background job after this many cron calls")
    parser.add_argument("--no-test-pass", action="store_true",
                        help="skip the rolled-back Test pass of (b) (reported only)")
    return parser


# ---------------------------------------------------------------------------
# Data: what exists before the import, and what the file says
# ---------------------------------------------------------------------------
def existing_state(i):
    """Customer ``i`` of the bench as created once (before any import)."""
    return {
        "ref": f"VIBE{i:07d}", "name": f"Import Customer {i:07d}",
        "email": f"vibe{i}@example.com", "phone": f"+8621{60000000 + i}",
        "street": f"{i} Old Road", "city": "Beijing", "zip": "100000", "country": "CN",
        "tier": "C" if i % 2 == 0 else None, "birthday": None, "channel": None,
    }


def update_state(i):
    """What row ``i`` of the updates makes of existing customer ``i``: every column changes
    (name, phone, address, birthday, channel), one in five gets another tier."""
    old = existing_state(i)
    tier = {0: "B", 5: "A"}.get(i % 10, old["tier"])
    return {
        **old, "name": f"Import Customer {i:07d} Updated", "phone": f"+8621{61000000 + i}",
        "street": f"{i} New Road", "city": CITIES[i % len(CITIES)], "zip": f"{200000 + i % 1000}",
        "tier": tier, "birthday": datetime.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
        "channel": CHANNELS[i % len(CHANNELS)],
    }


def new_state(j):
    """New customer ``j`` of the file."""
    return {
        "ref": f"VIBN{j:07d}", "name": f"New Customer {j:07d}", "email": f"vibn{j}@example.com",
        "phone": f"+8621{62000000 + j}", "street": f"{j} New Avenue",
        "city": CITIES[(j * 7) % len(CITIES)], "zip": f"{300000 + j % 1000}", "country": "CN",
        "tier": "C" if j % 2 == 0 else ("B" if j % 20 == 1 else None),
        "birthday": datetime.date(1960 + j % 40, 1 + j % 12, 1 + j % 28),
        "channel": CHANNELS[(j + 1) % len(CHANNELS)],
    }


def sizes(rows):
    existing = rows // 2
    return existing, rows - existing


def file_rows(rows):
    """``(kind, index, state)`` of the file's rows: updates and new customers interleaved,
    as in a real file (a chunk holds both)."""
    existing, new = sizes(rows)
    i = j = 0
    while i < existing or j < new:
        if i < existing:
            yield "update", i, update_state(i)
            i += 1
        if j < new:
            yield "create", j, new_state(j)
            j += 1


def expected_tier_changes(rows):
    existing, new = sizes(rows)
    changed = sum(1 for i in range(existing)
                  if update_state(i)["tier"] != existing_state(i)["tier"])
    return changed + sum(1 for j in range(new) if new_state(j)["tier"])


def ensure_setup(env):
    """The VIP manager who imports (the admin), the tiers the file names; returns ids."""
    company = env.ref("base.main_company")
    admin = env.ref("base.user_admin")
    manager_group = env.ref("vip_customer.group_vip_manager")
    if manager_group not in admin.groups_id:
        admin.write({"groups_id": [(4, manager_group.id)]})
    if not admin.lang:
        admin.write({"lang": "en_US"})
    Tier = env["vip.tier"].with_context(active_test=False)
    tiers = {}
    for code, name in TIERS.items():
        tier = Tier.search([("company_id", "=", company.id), ("code", "=", code)], limit=1)
        if not tier:
            level = {"A": 3, "B": 2, "C": 1}[code]
            tier = Tier.create({"name": name, "code": code, "level": level,
                                "company_id": company.id, "window_months": 12,
                                "min_spend": {"A": 100000.0, "B": 50000.0, "C": 0.0}[code]})
        if tier.name != name or not tier.active:
            tier.write({"name": name, "active": True})
        tiers[code] = tier.id
    if not company.country_id:
        company.write({"country_id": env.ref("base.cn").id})
    env.flush_all()
    return {"company_id": company.id, "admin_id": admin.id, "tiers": tiers,
            "country_cn": env.ref("base.cn").id}


def generate(env, ids, existing, batch=2000):
    """The existing customers through the ORM (as an earlier import would have made them),
    each with the external id an export gives it; committed every ``batch``."""
    Partner = env["res.partner"].with_context(tracking_disable=True, mail_create_nolog=True)
    Data = env["ir.model.data"]
    t0 = time.perf_counter()
    for start in range(0, existing, batch):
        vals_list = []
        for i in range(start, min(start + batch, existing)):
            state = existing_state(i)
            vals_list.append({
                "name": state["name"], "ref": state["ref"], "email": state["email"],
                "phone": state["phone"], "street": state["street"], "city": state["city"],
                "zip": state["zip"], "country_id": ids["country_cn"],
                "vip_tier_id": ids["tiers"][state["tier"]] if state["tier"] else False,
            })
        partners = Partner.create(vals_list)
        Data.create([{"module": XMLID_MODULE, "name": f"res_partner_{pid}_vibench",
                      "model": "res.partner", "res_id": pid, "noupdate": True}
                     for pid in partners.ids])
        env.cr.commit()
        env.invalidate_all()
        if (start // batch) % 10 == 9:
            bench.log(f"  {start + batch:,} customers ({time.perf_counter() - t0:.0f} s)")
    bench.log(f"{existing:,} existing customers in {time.perf_counter() - t0:.0f} s")


def prepare_data(odoo, options):
    """Create the existing customers, or check those of an earlier run; returns the marker."""
    existing, _new = sizes(options.rows)
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        marker = bench.read_marker(cr, BENCH)
        forced = bench.read_marker(cr, "_").get("forced")
        wanted = {"version": DATA_VERSION, "existing": existing}
        ids = ensure_setup(env)
        if marker:
            have = {key: marker.get(key) for key in wanted}
            if have != wanted:
                hint = ("drop it yourself: --rebuild only drops databases the bench created"
                        if forced else "pass --rebuild to regenerate")
                raise bench.BenchError(f"{options.db} holds bench data for {have}, not "
                                       f"{wanted}: {hint}")
            count = count_bench_partners(cr)
            if count != (existing, 0):
                raise bench.BenchError(f"{options.db}: bench data changed ({count[0]} existing, "
                                       f"{count[1]} new customers): use --rebuild")
            bench.log(f"reusing the {existing:,} customers of {options.db}")
            return dict(marker, **ids)
        if count_bench_partners(cr) != (0, 0):
            raise bench.BenchError(f"{options.db}: bench customers without a marker: --rebuild")
        bench.log(f"creating {existing:,} existing customers through the ORM")
        generate(env, ids, existing)
        marker = dict(wanted, created=datetime.datetime.now().isoformat(timespec="seconds"))
        bench.write_marker(cr, BENCH, marker)
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE res_partner")
        cr.execute("VACUUM ANALYZE ir_model_data")
    return dict(marker, **ids)


def count_bench_partners(cr):
    cr.execute("""SELECT COUNT(*) FILTER (WHERE ref LIKE 'VIBE%%'),
                         COUNT(*) FILTER (WHERE ref LIKE 'VIBN%%')
                    FROM res_partner WHERE ref LIKE 'VIB%%'""")
    return tuple(cr.fetchone())


def build_files(options, xmlids):
    """The .xlsx of our import and the .csv of base_import: the same rows, each in the form its
    import reads (tier by code for ours, by name for Odoo's; updates matched by reference in
    ours, by the external id of an export in Odoo's). Cached in bench/_data."""
    from openpyxl import Workbook  # noqa: PLC0415 (Odoo's dependency)

    bench.DATA_DIR.mkdir(parents=True, exist_ok=True)
    xlsx = bench.DATA_DIR / f"{BENCH}-{options.rows}-v{FILE_VERSION}.xlsx"
    t0 = time.perf_counter()
    if not xlsx.exists():
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Customers")
        sheet.append([header for header, _field, _key in COLUMNS])
        for _kind, _index, state in file_rows(options.rows):
            sheet.append([
                {"country": "China", "tier": state["tier"]}.get(key, state[key])
                if key in ("country", "tier") else state[key]
                for _header, _field, key in COLUMNS
            ])
        tmp = xlsx.with_suffix(".tmp")
        workbook.save(tmp)
        tmp.rename(xlsx)
        bench.log(f"{xlsx.name} written in {time.perf_counter() - t0:.0f} s")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["External ID"] + [header for header, _field, _key in COLUMNS])
    for kind, _index, state in file_rows(options.rows):
        cells = [xmlids[state["ref"]] if kind == "update" else ""]
        for _header, _field, key in COLUMNS:
            value = state[key]
            if key == "tier":
                value = TIERS[value] if value else ""
            elif key == "country":
                value = "China"
            elif value is None:
                value = ""
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            cells.append(value)
        writer.writerow(cells)
    return xlsx.read_bytes(), out.getvalue().encode()


def read_xmlids(odoo, options):
    with bench.environment(odoo, options.db) as env:
        env.cr.execute("""
            SELECT p.ref, d.module || '.' || d.name FROM ir_model_data d
              JOIN res_partner p ON p.id = d.res_id
             WHERE d.model = 'res.partner' AND d.module = %s AND p.ref LIKE 'VIBE%%'
        """, [XMLID_MODULE])
        return dict(env.cr.fetchall())


# ---------------------------------------------------------------------------
# A fresh copy of the bench database per measured run
# ---------------------------------------------------------------------------
@contextlib.contextmanager
def database_copy(odoo, options, suffix):
    copy = f"{options.db}_{suffix}"
    if bench.db_exists(odoo, copy):
        bench.drop_database(odoo, copy)  # a copy left by an interrupted run (it has the marker)
    odoo.sql_db.close_db(options.db)
    t0 = time.perf_counter()
    with contextlib.closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{options.db}"')
    source = bench.filestore(odoo, options.db)
    if source.is_dir():
        shutil.copytree(source, bench.filestore(odoo, copy), dirs_exist_ok=True)
    bench.log(f"    fresh copy {copy} in {time.perf_counter() - t0:.0f} s")
    try:
        yield copy
    finally:
        odoo.sql_db.close_db(copy)
        bench.drop_database(odoo, copy)


def snapshot(cr):
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM vip_tier_history")
    return {"history_max": cr.fetchone()[0]}


# ---------------------------------------------------------------------------
# (a) ours
# ---------------------------------------------------------------------------
TIER_KEYS = {"vip_tier_id", "vip_locked", "vip_lock_reason", "vip_lock_until"}


@contextlib.contextmanager
def write_path_timer(env, timings):
    """Time what the import's batches spend in ``res.partner.create`` (the new customers),
    in ``write()`` of the updated customers' columns and in the grouped tier writes (the
    SQL of the updates runs at the next flush: in "flush", with the creates' recomputes)."""
    from unittest.mock import patch  # noqa: PLC0415 (bench only)

    from odoo import api  # noqa: PLC0415 (imported once Odoo is started)

    from odoo.addons.vip_customer.wizard.vip_customer_import import (  # noqa: PLC0415
        VipCustomerImport,
    )

    partner_cls = type(env["res.partner"])
    create, write, batch = partner_cls.create, partner_cls.write, VipCustomerImport._import_batch
    inside = []

    def add(key, seconds, rows=0):
        timings[key] = timings.get(key, 0.0) + seconds
        timings[key + "_rows"] = timings.get(key + "_rows", 0) + rows

    def timed_create(self, vals_list):
        t0 = time.perf_counter()
        try:
            return create(self, vals_list)
        finally:
            if inside == [True]:
                add("create", time.perf_counter() - t0,
                    len(vals_list) if isinstance(vals_list, list) else 1)

    def timed_write(self, vals):
        t0 = time.perf_counter()
        try:
            return write(self, vals)
        finally:
            if inside == [True]:
                key = "tier" if set(vals) <= TIER_KEYS else "update"
                add(key, time.perf_counter() - t0, len(self))

    def timed_batch(self, rows, lookups):
        t0 = time.perf_counter()
        inside.append(True)
        try:
            return batch(self, rows, lookups)
        finally:
            inside.pop()
            self.env.flush_all()
            add("batches", time.perf_counter() - t0, len(rows))

    timed_create = api.model_create_multi(timed_create)
    with patch.object(partner_cls, "create", timed_create), \
            patch.object(partner_cls, "write", timed_write), \
            patch.object(VipCustomerImport, "_import_batch", timed_batch):
        yield


def run_ours(env, ids, content, options, timings):
    """Check, Import, and the background job's cron until the job is done."""
    with write_path_timer(env, timings):
        return _run_ours(env, ids, content, options, timings)


def _run_ours(env, ids, content, options, timings):
    admin_env = env(user=ids["admin_id"])
    t0 = time.perf_counter()
    wizard = admin_env["vip.customer.import"].create({
        "file": base64.b64encode(content), "file_name": f"customers-{options.rows}.xlsx",
    })
    wizard.action_check()
    env.cr.commit()
    if wizard.state == "checking":
        # a large file is checked by a job of mode check (vip_customer.import_background_rows)
        run_jobs(env, options, timings, key="check_cron_calls")
        wizard.invalidate_recordset()
        if wizard.state != "checked":
            raise bench.BenchError(f"the background check left the wizard {wizard.state}")
    timings["check"] = time.perf_counter() - t0
    counts = {"rows": wizard.row_count, "create": wizard.create_count,
              "update": wizard.update_count, "error": wizard.error_count}
    if counts["error"]:
        messages = wizard.line_ids.filtered("is_error")[:5].mapped("message")
        raise bench.BenchError(f"the check found {counts['error']} rows in error: {messages}")
    t1 = time.perf_counter()
    wizard.action_import()
    env.cr.commit()
    timings["import"] = time.perf_counter() - t1
    counts["wizard_state"] = wizard.state
    if "vip.import.job" in env.registry:
        t2 = time.perf_counter()
        counts["job"] = run_jobs(env, options, timings)
        timings["jobs"] = time.perf_counter() - t2
    return counts


def run_jobs(env, options, timings, key="cron_calls"):
    """The job cron called until the last job is no longer queued, checking or running (a
    commit after each call); its call count in ``timings[key]``."""
    from unittest.mock import patch  # noqa: PLC0415 (bench only)

    Job = env["vip.import.job"]
    job = Job.search([], order="id desc", limit=1)
    if not job:
        raise bench.BenchError("Import created no vip.import.job")
    cron = env.ref("vip_customer.ir_cron_vip_import_jobs", raise_if_not_found=False)
    cron_env = env(user=cron.user_id.id) if cron else env
    calls = 0
    progress = []

    def notify(self, *, done, remaining, deactivate=False):
        progress.append((done, remaining))

    with patch.object(type(env["ir.cron"]), "_notify_progress", notify):
        while job.state in ("queued", "checking", "running"):
            if calls >= options.max_cron_calls:
                raise bench.BenchError(f"job {job.id} still {job.state} after {calls} cron calls")
            cron_env["vip.import.job"]._cron_process_jobs()
            calls += 1
            env.cr.commit()
            env.invalidate_all()
    timings[key] = calls
    return {"state": job.state, "rows_done": job.rows_done, "create": job.create_count,
            "update": job.update_count, "error": job.error_message or "", "calls": calls}


def ours_run(odoo, options, ids, content, copy, profile_to=None):
    def child():
        registry = odoo.modules.registry.Registry(copy)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            before = snapshot(cr)
            timings = {}
            rss0 = bench.maxrss_bytes()
            counts, stats = bench.measure(lambda: run_ours(env, ids, content, options, timings),
                                          profile_to=profile_to)
            stats.update(counts=counts, timings=timings, rss_peak=bench.maxrss_bytes(),
                         rss_start=rss0)
            cr.commit()
            stats["check"] = verify(env, options, ids, before, "import")
            return stats

    return bench.run_isolated(odoo, child)


# ---------------------------------------------------------------------------
# (b) Odoo's base_import
# ---------------------------------------------------------------------------
def run_base_import(env, ids, content, options, dryrun, timings):
    """``execute_import`` in the web client's steps (``skip``/``limit``), one transaction each
    (committed, or rolled back for the Test pass); raises on any message."""
    admin_env = env(user=ids["admin_id"], context={"tracking_disable": True})
    record = admin_env["base_import.import"].create({
        "res_model": "res.partner", "file": content, "file_name": f"customers-{options.rows}.csv",
        "file_type": "text/csv",
    })
    env.cr.commit()
    fields = ["id"] + [field for _header, field, _key in COLUMNS]
    columns = ["external id"] + [header.lower() for header, _field, _key in COLUMNS]
    skip, steps, ids_done = 0, 0, 0
    while True:
        step_options = {
            "has_headers": True, "advanced": True, "keep_matches": False, "encoding": "utf-8",
            "separator": ",", "quoting": '"', "date_format": "%Y-%m-%d",
            "datetime_format": "", "float_thousand_separator": ",",
            "float_decimal_separator": ".", "limit": options.base_step, "skip": skip,
            "tracking_disable": True, "name_create_enabled_fields": {},
            "import_set_empty_fields": [], "import_skip_records": [], "fallback_values": {},
        }
        result = record.execute_import(fields, columns, step_options, dryrun=dryrun)
        steps += 1
        messages = result.get("messages") or []
        if messages:
            raise bench.BenchError(f"execute_import (skip {skip}) refused the file: "
                                   f"{messages[:3]}")
        ids_done += len(result.get("ids") or [])
        if dryrun:
            env.cr.rollback()
        else:
            env.cr.commit()
        env.invalidate_all()
        if not result.get("nextrow"):
            break
        skip = result["nextrow"]
    timings["steps"] = steps
    return {"ids": ids_done, "steps": steps}


def base_import_run(odoo, options, ids, content, copy, dryrun=False):
    def child():
        registry = odoo.modules.registry.Registry(copy)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            before = snapshot(cr)
            timings = {}
            counts, stats = bench.measure(
                lambda: run_base_import(env, ids, content, options, dryrun, timings))
            stats.update(counts=counts, timings=timings, rss_peak=bench.maxrss_bytes())
            cr.commit()
            if not dryrun:
                stats["check"] = verify(env, options, ids, before, "manual")
            return stats

    return bench.run_isolated(odoo, child)


# ---------------------------------------------------------------------------
# The database state after a run
# ---------------------------------------------------------------------------
def verify(env, options, ids, before, reason):
    """Compare every bench customer with what the file says; counts of problems."""
    cr = env.cr
    existing, new = sizes(options.rows)
    codes = {tier_id: code for code, tier_id in ids["tiers"].items()}
    cr.execute("""
        SELECT p.ref, p.name, p.email, p.phone, p.street, p.city, p.zip, c.code,
               p.vip_tier_id, p.vip_birthday, p.vip_preferred_channel
          FROM res_partner p LEFT JOIN res_country c ON c.id = p.country_id
         WHERE p.ref LIKE 'VIB%%' AND p.active
    """)
    found = {}
    duplicates = 0
    for ref, name, email, phone, street, city, zip_code, country, tier_id, birthday, channel \
            in cr.fetchall():
        if ref in found:
            duplicates += 1
        found[ref] = {"ref": ref, "name": name, "email": email, "phone": phone,
                      "street": street, "city": city, "zip": zip_code, "country": country,
                      "tier": codes.get(tier_id) if tier_id else None, "birthday": birthday,
                      "channel": channel}
    missing, differ, examples = 0, 0, []
    for _kind, _index, state in file_rows(options.rows):
        have = found.pop(state["ref"], None)
        if have is None:
            missing += 1
            continue
        diff = {key: (have[key], value) for key, value in state.items() if have[key] != value}
        if diff:
            differ += 1
            if len(examples) < 3:
                examples.append((state["ref"], diff))
    cr.execute("""
        SELECT COUNT(*) FROM vip_tier_history h JOIN res_partner p ON p.id = h.partner_id
         WHERE h.id > %s AND p.ref LIKE 'VIB%%'
    """, [before["history_max"]])
    history = cr.fetchone()[0]
    cr.execute("""SELECT COUNT(*) FILTER (WHERE ref LIKE 'VIBE%%'),
                         COUNT(*) FILTER (WHERE ref LIKE 'VIBN%%')
                    FROM res_partner WHERE ref LIKE 'VIB%%'""")
    counts = cr.fetchone()
    return {
        "rows": options.rows, "existing": counts[0], "new": counts[1],
        "expected": [existing, new], "missing": missing, "duplicates": duplicates,
        "extra": len(found), "differ": differ, "examples": examples,
        "history": history, "history_expected": expected_tier_changes(options.rows),
        "reason": reason,
    }


def check_ok(check):
    return bool(check) and check["missing"] == check["duplicates"] == check["extra"] == \
        check["differ"] == 0 and [check["existing"], check["new"]] == check["expected"] and \
        check["history"] == check["history_expected"]


def check_text(check):
    text = (f"{check['existing']:,} existing + {check['new']:,} new customers (expected "
            f"{check['expected'][0]:,} + {check['expected'][1]:,}), {check['missing']} missing, "
            f"{check['duplicates']} duplicated, {check['differ']} with a value other than the "
            f"file's, {check['history']:,} tier history rows (expected "
            f"{check['history_expected']:,})")
    if check["examples"]:
        text += f"; e.g. {check['examples'][0]}"
    return text


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main(argv=None):
    options = bench.parse_args(build_parser(), argv)
    if options.rows < 2 or options.base_step < 1:
        raise bench.BenchError("--rows must be >= 2 and --base-step >= 1")
    if options.rows > 2000000:
        raise bench.BenchError("--rows above 2,000,000 would reuse phone numbers")
    odoo = bench.start_odoo(options)
    started = time.perf_counter()
    bench.prepare_database(odoo, options, MODULES)
    ids = prepare_data(odoo, options)
    ids["tiers"] = {code: int(tier_id) for code, tier_id in ids["tiers"].items()}
    xmlids = read_xmlids(odoo, options)
    xlsx, csv_content = build_files(options, xmlids)
    bench.log(f"files: .xlsx {len(xlsx) / 1024**2:.1f} MiB, .csv {len(csv_content) / 1024**2:.1f} "
              f"MiB, {options.rows:,} rows")

    bench.log("(a) our import: Check, Import, background job until done")
    with database_copy(odoo, options, "ours") as copy:
        ours = ours_run(odoo, options, ids, xlsx, copy)
    bench.log(f"    {ours['seconds']:.1f} s")
    profiled = None
    if options.profile:
        bench.log("(a) our import again under cProfile")
        profile_to = str(bench.DATA_DIR / f"{BENCH}.prof")
        with database_copy(odoo, options, "ours") as copy:
            profiled = ours_run(odoo, options, ids, xlsx, copy, profile_to=profile_to)
    bench.log(f"(b) Odoo's base_import, CSV in steps of {options.base_step:,} rows")
    with database_copy(odoo, options, "base") as copy:
        test = None
        if not options.no_test_pass:
            bench.log("(b') its Test pass first (every step rolled back), for information")
            test = base_import_run(odoo, options, ids, csv_content, copy, dryrun=True)
            bench.log(f"    {test['seconds']:.1f} s")
        base = base_import_run(odoo, options, ids, csv_content, copy)
        bench.log(f"    {base['seconds']:.1f} s")
    report(options, ours, base, test, profiled, time.perf_counter() - started)


def report(options, ours, base, test, profiled, elapsed):
    existing, new = sizes(options.rows)
    print()
    print(f"customer_import: {options.rows:,} rows ({new:,} new customers, {existing:,} updates "
          f"of existing ones, every column changed), {len(COLUMNS)} columns, db {options.db}")
    t = ours["timings"]
    job = ours["counts"].get("job")
    check_calls = t.get("check_cron_calls")
    how = (f"Check {t['check']:.1f} s"
           + (f" ({check_calls} cron calls)" if check_calls else "")
           + f" + Import {t['import']:.1f} s"
           + (f" + job {t['jobs']:.1f} s ({job['calls']} cron calls)" if job else
              " (no vip.import.job: synchronous Import)"))
    rows = [
        ["(a) ours: " + how, f"{ours['counts']['create']:,}", f"{ours['counts']['update']:,}",
         bench.fmt_seconds(ours["seconds"]), bench.fmt_bytes(ours["maxrss_delta"]),
         bench.fmt_bytes(ours["rss_peak"])],
        [f"(b) base_import: execute_import, {base['counts']['steps']} steps",
         "-", "-", bench.fmt_seconds(base["seconds"]), bench.fmt_bytes(base["maxrss_delta"]),
         bench.fmt_bytes(base["rss_peak"])],
    ]
    if test:
        rows.append(["(b') base_import Test pass (rolled back), info", "-", "-",
                     bench.fmt_seconds(test["seconds"]), bench.fmt_bytes(test["maxrss_delta"]),
                     bench.fmt_bytes(test["rss_peak"])])
    if profiled:
        rows.append(["(a) ours under cProfile", "-", "-", bench.fmt_seconds(profiled["seconds"]),
                     "-", "-"])
    print()
    bench.print_table(["measure", "created", "updated", "time", "RSS delta", "RSS peak"], rows)
    if job:
        print(f"job: {job['state']}, {job['rows_done']:,} rows done, {job['create']:,} created, "
              f"{job['update']:,} updated {job['error']}")
    if t.get("batches"):
        def per_row(key):
            rows = t.get(key + "_rows") or 0
            return f"{1000 * t.get(key, 0.0) / rows:.2f} ms/row" if rows else "-"

        other = t["batches"] - t.get("create", 0.0) - t.get("update", 0.0) - t.get("tier", 0.0)
        print(f"our write path (_import_batch, {t['batches_rows']:,} rows, {t['batches']:.1f} s): "
              f"create {t.get('create', 0.0):.1f} s ({per_row('create')}), "
              f"updates' write() {t.get('update', 0.0):.1f} s ({per_row('update')} written), "
              f"tier writes {t.get('tier', 0.0):.1f} s ({t.get('tier_rows', 0):,} customers), "
              f"reading the old values, flush and the rest {other:.1f} s")
    if profiled and profiled.get("profile"):
        print()
        print("cProfile of our import (cumulative, top 40; full profile: "
              f"{bench.DATA_DIR / (BENCH + '.prof')}):")
        print(profiled["profile"])
    ratio = ours["seconds"] / base["seconds"] if base["seconds"] else float("inf")
    memory = ours["maxrss_delta"]
    print()
    bench.print_targets([
        (f"(a)/(b) <= {TARGET_RATIO:g}", f"{ratio:.2f} ({ours['seconds']:.2f} s / "
         f"{base['seconds']:.2f} s)", ratio <= TARGET_RATIO),
        ("peak memory of our import < 500 MiB",
         f"{bench.fmt_bytes(memory)} (RSS growth of the run; base_import's: "
         f"{bench.fmt_bytes(base['maxrss_delta'])})", memory < TARGET_MEMORY),
        ("(a) the database holds the file", check_text(ours["check"]), check_ok(ours["check"])),
        ("(b) the database holds the file", check_text(base["check"]), check_ok(base["check"])),
        ("(a) the wizard counted the file", f"{ours['counts']['create']:,} new, "
         f"{ours['counts']['update']:,} updates, {ours['counts']['error']} errors",
         (ours["counts"]["create"], ours["counts"]["update"], ours["counts"]["error"])
         == (new, existing, 0)),
    ] + ([("(a) the job is done with the file's counts",
           f"{job['state']}, {job['create']:,} created, {job['update']:,} updated",
           (job["state"], job["create"], job["update"]) == ("done", new, existing))]
         if job else []))
    print(f"(whole bench run: {elapsed:.0f} s)")
    bench.ratio_line(BENCH, ratio)


if __name__ == "__main__":
    bench.main_wrapper(main)
