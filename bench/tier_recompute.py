"""Benchmark of the VIP tier engine (vip_customer, its nightly cron ``_cron_recompute_tiers``).

    python bench/tier_recompute.py --odoo-src PATH --db NAME \
        [--customers 200000 --invoices 2000000 --months 24 --sample 5000] [--rebuild] [--profile]

Run it with the Odoo's own Python. It creates the database when missing (see bench/README.md),
generates the customers and posted invoices with bulk SQL (reused by the next run) and
measures, in one run:

(a) the engine: the first full run (every customer new), then nights one day apart where
    ~5% of the customers change tier (fresh invoices and refunds, marked for evaluation as
    account.move's hook does): two incremental nights (the customers whose evaluation day has
    come: the changed ones, purchases leaving a window, churn recency steps) and one full
    night (every customer), through the cron's own path (one batch per call, a commit between
    calls, as Odoo's cron runner does); seconds, customers, tier changes, peak memory;
(b) the floor: one raw aggregate query over the same invoices, fully fetched (best of 3);
(c) a naive per-customer ORM loop on ``--sample`` customers, extrapolated to all.

It prints a table, the targets with PASS/FAIL (incremental night <= 1x the floor, full night
<= 2x, memory < 1 GiB) and, last, ``RATIO tier_recompute <incremental night / floor>``.
Exit status 0 after the report whatever the targets, non-zero on errors.
"""

import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402

BENCH = "tier_recompute"
MODULES = ["vip_customer"]
DATA_VERSION = 1
SEED = 0.4242
REF = "vip-bench"  # ref of the generated customers and moves
STEADY_REF = "vip-bench-steady"  # ref of the moves added to reach the steady state
MEDIAN_WINDOW_SPEND = 25000.0  # median 12-month spend of a customer (lognormal)
SIGMA = 0.75  # spread of the customers' spend: ~4% reach A (100k), ~20% A or B (50k)
REFUND_RATE = 0.08
CHANGE_SHARE = 0.025  # per steady-state night: upgraded customers, and as many downgraded
TIERS = [
    # code, name, level, min spend, retention spend
    ("A", "A - Platinum", 3, 100000.0, 80000.0),
    ("B", "B - Gold", 2, 50000.0, 40000.0),
    ("C", "C - Valued", 1, 0.0, 0.0),
]
TARGET_RATIO = 2.0  # the full night
TARGET_INCREMENTAL = 1.0  # the incremental night
TARGET_NAIVE_FACTOR = 50.0
TARGET_MEMORY = bench.GIB


def build_parser():
    parser = bench.new_parser(__doc__.split("\n\n")[0])
    bench.add_common_args(parser)
    parser.add_argument("--customers", type=int, default=200000)
    parser.add_argument("--invoices", type=int, default=2000000,
                        help="posted customer invoices (plus ~8%% refunds)")
    parser.add_argument("--months", type=int, default=24,
                        help="the invoices spread over this many months up to the bench day")
    parser.add_argument("--sample", type=int, default=5000,
                        help="customers of the naive ORM loop")
    parser.add_argument("--batch-size", type=int, default=5000, help="engine batch size")
    parser.add_argument("--prepare-only", action="store_true",
                        help="create the database and generate the data, measure nothing "
                             "(to generate a large set ahead of an idle machine)")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the incremental night under tracemalloc (slow at 200k: "
                             "memory is then the RSS growth of the other runs)")
    return parser


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def months_ago(day, months):
    from odoo.addons.vip_customer.tools.vip_rules import months_ago as rule  # noqa: PLC0415

    return rule(day, months)


def write_changed(record, vals):
    """Write only the values that differ: rewriting a tier marks fields of every customer
    holding it for recomputation (vip_next_followup_date), 200k records on a reused database."""
    changed = {}
    for fname, value in vals.items():
        current = record[fname]
        if record._fields[fname].type == "many2one":
            current = current.id
        if current != value:
            changed[fname] = value
    if changed:
        record.write(changed)


def ensure_setup(env):
    """Company settings, the three tiers and a sale journal of the bench; returns ids."""
    company = env.ref("base.main_company")
    write_changed(company, {"vip_window_months": 12, "vip_spend_basis": "untaxed"})
    Tier = env["vip.tier"].with_context(active_test=False)
    existing = {tier.code: tier for tier in Tier.search([("company_id", "=", company.id)])}
    (Tier.browse([t.id for code, t in existing.items()
                  if code not in {spec[0] for spec in TIERS}])).write({"active": False})
    for code, name, level, min_spend, retention in TIERS:
        vals = {
            "name": name, "code": code, "level": level, "sequence": 10 * (4 - level),
            "company_id": company.id, "active": True, "window_months": 12,
            "min_spend": min_spend, "min_purchase_count": 1,
            "retention_spend": retention, "retention_purchase_count": 1,
            "grace_days": 30, "pricelist_id": False, "account_manager_required": False,
        }
        if code in existing:
            write_changed(existing[code], vals)
        else:
            Tier.create(vals)
    Journal = env["account.journal"]
    journal = Journal.search([("code", "=", "VBNCH"), ("company_id", "=", company.id)], limit=1)
    if not journal:
        journal = Journal.create({"name": "VIP Bench Sales", "code": "VBNCH", "type": "sale",
                                  "company_id": company.id})
    env.flush_all()
    return {"company_id": company.id, "journal_id": journal.id,
            "currency_id": company.currency_id.id}


INSERT_MOVES = """
INSERT INTO account_move (
    journal_id, company_id, currency_id, state, move_type, auto_post, date, invoice_date,
    invoice_date_due, name, sequence_prefix, sequence_number, ref, partner_id,
    commercial_partner_id, invoice_partner_display_name, payment_state, invoice_currency_rate,
    amount_untaxed, amount_tax, amount_total, amount_residual,
    amount_untaxed_signed, amount_untaxed_in_currency_signed, amount_tax_signed,
    amount_total_signed, amount_total_in_currency_signed, amount_residual_signed,
    is_storno, always_tax_exigible, checked, posted_before, made_sequence_gap,
    is_manually_modified, is_move_sent, create_uid, write_uid, create_date, write_date)
SELECT %(journal)s, %(company)s, %(currency)s, 'posted', s.move_type, 'no', s.invoice_date,
       s.invoice_date, s.invoice_date + 30, %(prefix)s || lpad(s.seq::text, 8, '0'), %(prefix)s,
       s.seq, %(ref)s, s.partner_id, s.partner_id, 'Bench Customer', 'not_paid', 1,
       s.amount, round(s.amount * 0.15, 2), round(s.amount * 1.15, 2), round(s.amount * 1.15, 2),
       s.sign * s.amount, s.sign * s.amount, s.sign * round(s.amount * 0.15, 2),
       s.sign * round(s.amount * 1.15, 2), s.sign * round(s.amount * 1.15, 2),
       s.sign * round(s.amount * 1.15, 2),
       false, false, true, true, false, false, false, 1, 1,
       NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
  FROM (%(source)s) s
"""


def insert_moves(cr, ids, source, prefix, ref, params):
    """Insert posted moves from ``source``, a SELECT of ``seq, partner_id, invoice_date,
    move_type, amount`` (positive) and ``sign`` (-1 for refunds)."""
    query = INSERT_MOVES.replace("%(source)s", source)
    cr.execute(query, {"journal": ids["journal_id"], "company": ids["company_id"],
                       "currency": ids["currency_id"], "prefix": prefix, "ref": ref, **params})
    return cr.rowcount


def generate(cr, ids, options, anchor):
    """Customers and invoices with bulk SQL; returns the marker values."""
    n, m, months = options.customers, options.invoices, options.months
    refunds = round(m * REFUND_RATE)
    days = (anchor - months_ago(anchor, months)).days
    per_window = (m / n) * min(12, months) / months  # invoices of a customer in 12 months
    median_invoice = MEDIAN_WINDOW_SPEND / max(per_window, 1.0)
    cr.execute("SELECT setseed(%s)", [SEED])
    t0 = time.perf_counter()
    cr.execute("""
        INSERT INTO res_partner (id, commercial_partner_id, name, complete_name, type, active,
                                 is_company, lang, customer_rank, supplier_rank, autopost_bills,
                                 partner_share, ref, color, create_uid, write_uid, create_date,
                                 write_date)
        SELECT s.id, s.id, 'Bench Customer ' || s.g, 'Bench Customer ' || s.g, 'contact', true,
               true, 'en_US', 1, 0, 'ask', true, %(ref)s, 0, 1, 1,
               NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
          FROM (SELECT g, nextval('res_partner_id_seq') AS id
                  FROM generate_series(1, %(n)s) g) s
    """, {"n": n, "ref": REF})
    cr.execute("SELECT MIN(id), MAX(id), COUNT(*) FROM res_partner WHERE ref = %s", [REF])
    pmin, pmax, count = cr.fetchone()
    if count != n:
        raise bench.BenchError(f"expected {n} bench customers, found {count}")
    bench.log(f"{n:,} customers in {time.perf_counter() - t0:.0f} s")
    # spend weight per customer: lognormal (Box-Muller), median 1
    cr.execute("""
        CREATE TEMP TABLE bench_customer ON COMMIT DROP AS
        SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id AS partner_id,
               exp(%(sigma)s * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())) AS w
          FROM res_partner WHERE ref = %(ref)s;
        CREATE UNIQUE INDEX ON bench_customer (idx);
        ANALYZE bench_customer;
    """, {"sigma": SIGMA, "ref": REF})
    with bench.indexes_deferred(cr, "account_move"):
        invoices, refunded = _generate_moves(cr, ids, options, anchor, refunds, days,
                                             median_invoice)
    return {
        "version": DATA_VERSION, "customers": n, "invoices": m, "months": months,
        "refunds": refunded, "anchor": anchor.isoformat(), "partner_min": pmin,
        "partner_max": pmax, **ids,
    }


def _generate_moves(cr, ids, options, anchor, refunds, days, median_invoice):
    n, m = options.customers, options.invoices
    t0 = time.perf_counter()
    # every customer gets one invoice, the others go to random customers
    invoices = insert_moves(cr, ids, """
        SELECT s.g AS seq, c.partner_id, s.invoice_date, 'out_invoice' AS move_type,
               round((c.w * %(median)s * (0.3 + 1.4 * random()))::numeric, 2) AS amount,
               1 AS sign
          FROM (SELECT g,
                       CASE WHEN g <= %(n)s THEN g - 1
                            ELSE least(floor(random() * %(n)s)::int, %(n)s - 1) END AS idx,
                       %(anchor)s::date - floor(random() * %(days)s)::int AS invoice_date
                  FROM generate_series(1, %(m)s) g) s
          JOIN bench_customer c ON c.idx = s.idx
    """, "VBI/", REF, {"n": n, "m": m, "median": median_invoice, "anchor": anchor,
                      "days": days})
    bench.log(f"{invoices:,} invoices in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    refunded = insert_moves(cr, ids, """
        SELECT s.g AS seq, c.partner_id, s.invoice_date, 'out_refund' AS move_type,
               round((c.w * %(median)s * (0.1 + 0.4 * random()))::numeric, 2) AS amount,
               -1 AS sign
          FROM (SELECT g, least(floor(random() * %(n)s)::int, %(n)s - 1) AS idx,
                       %(anchor)s::date - floor(random() * %(days)s)::int AS invoice_date
                  FROM generate_series(1, %(r)s) g) s
          JOIN bench_customer c ON c.idx = s.idx
    """, "VBR/", REF, {"n": n, "r": refunds, "median": median_invoice, "anchor": anchor,
                      "days": days})
    bench.log(f"{refunded:,} refunds in {time.perf_counter() - t0:.0f} s")
    return invoices, refunded


def count_data(cr, marker):
    cr.execute("SELECT COUNT(*) FROM res_partner WHERE ref = %s AND id BETWEEN %s AND %s",
               [REF, marker["partner_min"], marker["partner_max"]])
    partners = cr.fetchone()[0]
    cr.execute("SELECT COUNT(*) FROM account_move WHERE journal_id = %s AND ref = %s",
               [marker["journal_id"], REF])
    return partners, cr.fetchone()[0]


def prepare_data(odoo, options):
    """Generate the data, or check that the data of an earlier run fits; returns the marker."""
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        marker = bench.read_marker(cr, BENCH)
        forced = bench.read_marker(cr, "_").get("forced")
        wanted = {"version": DATA_VERSION, "customers": options.customers,
                  "invoices": options.invoices, "months": options.months}
        if marker:
            have = {key: marker.get(key) for key in wanted}
            if have != wanted:
                hint = ("drop it yourself: --rebuild only drops databases the bench created"
                        if forced else "pass --rebuild to regenerate")
                raise bench.BenchError(f"{options.db} holds bench data for {have}, not "
                                       f"{wanted}: {hint}")
            partners, moves = count_data(cr, marker)
            if (partners, moves) != (marker["customers"], marker["invoices"] + marker["refunds"]):
                raise bench.BenchError(f"{options.db}: bench data incomplete ({partners} "
                                       f"customers, {moves} moves): use --rebuild")
            bench.log(f"reusing the data of {options.db} ({partners:,} customers, "
                      f"{moves:,} moves, bench day {marker['anchor']})")
            ensure_setup(env)
            return marker
        bench.log(f"generating {options.customers:,} customers and {options.invoices:,} "
                  f"invoices over {options.months} months")
        ids = ensure_setup(env)
        anchor = datetime.date.today()
        marker = generate(cr, ids, options, anchor)
        bench.write_marker(cr, BENCH, marker)
    bench.log("VACUUM ANALYZE")
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE res_partner")
        # what autovacuum does to a live database's older invoices: their pages are
        # all-visible, so index-only scans need no heap fetch (the floor's and the engine's)
        cr.execute("VACUUM ANALYZE account_move")
    return marker


def reset_engine_state(odoo, options, marker):
    """Forget every result of earlier engine runs, so the first run finds all customers new."""
    from odoo.addons.vip_customer.models.vip_tier_engine import SQL_COLUMNS  # noqa: PLC0415

    t0 = time.perf_counter()
    # dict.fromkeys: the engine may list vip_tier_id / vip_tier_since in SQL_COLUMNS too
    columns = list(dict.fromkeys(
        ["vip_tier_id", "vip_tier_since", "vip_next_followup_date", *SQL_COLUMNS]
    ))
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        assignments = ", ".join(f"{col} = {'false' if col == 'vip_locked' else 'NULL'}"
                                for col in columns)
        cr.execute(f"UPDATE res_partner SET {assignments} "
                   "WHERE vip_company_id IS NOT NULL OR vip_tier_id IS NOT NULL")
        reset = cr.rowcount
        cr.execute("DELETE FROM vip_tier_history")
        partner_range = [marker["partner_min"], marker["partner_max"]]
        cr.execute("DELETE FROM mail_activity WHERE res_model = 'res.partner' "
                   "AND res_id BETWEEN %s AND %s", partner_range)
        cr.execute("DELETE FROM mail_message WHERE model = 'res.partner' "
                   "AND res_id BETWEEN %s AND %s", partner_range)
        cr.execute("DELETE FROM account_move WHERE journal_id = %s AND ref = %s",
                   [marker["journal_id"], STEADY_REF])
        cr.execute("UPDATE res_company SET vip_recompute_cursor = 0, vip_recompute_date = NULL")
    if reset:
        with odoo.sql_db.db_connect(options.db).cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute("VACUUM ANALYZE res_partner")
        bench.log(f"engine results of an earlier run reset ({reset:,} customers) in "
                  f"{time.perf_counter() - t0:.0f} s")


def advance_night(odoo, options, marker, day):
    """Bring ~5% of the customers to a tier change on ``day``: fresh invoices lift 2.5% of them
    (C and B customers) over the next tier's entry threshold; refunds drop 2.5% (A and B
    customers) below their retention threshold, with the grace period ending that day."""
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        n = max(1, round(marker["customers"] * CHANGE_SHARE))
        params = {"company": marker["company_id"], "n": n, "day": day,
                  "pmin": marker["partner_min"], "pmax": marker["partner_max"]}
        prefix = f"VBS{day:%Y%m%d}/"
        up = insert_moves(cr, marker, """
            SELECT row_number() OVER () AS seq, c.id AS partner_id,
                   %(day)s::date AS invoice_date, 'out_invoice' AS move_type,
                   round((nxt.min_spend - COALESCE(c.vip_spend, 0) + 2000 + 3000 * random())
                         ::numeric, 2) AS amount, 1 AS sign
              FROM res_partner c
              JOIN vip_tier cur ON cur.id = c.vip_tier_id
              JOIN vip_tier nxt ON nxt.company_id = cur.company_id AND nxt.level = cur.level + 1
                               AND nxt.active
             WHERE c.id BETWEEN %(pmin)s AND %(pmax)s AND c.vip_company_id = %(company)s
             ORDER BY md5(c.id::text || %(day)s::text)
             LIMIT %(n)s
        """, prefix + "I", STEADY_REF, params)
        cr.execute("""
            SELECT DISTINCT commercial_partner_id FROM account_move
             WHERE journal_id = %(journal)s AND ref = %(ref)s AND invoice_date = %(day)s
        """, {**params, "journal": marker["journal_id"], "ref": STEADY_REF})
        params["up_ids"] = [pid for (pid,) in cr.fetchall()] or [0]
        cr.execute("""
            CREATE TEMP TABLE bench_down ON COMMIT DROP AS
            SELECT c.id AS partner_id, lower.id AS lower_id,
                   round((COALESCE(c.vip_spend, 0) - cur.retention_spend + 2000
                          + 3000 * random())::numeric, 2) AS amount
              FROM res_partner c
              JOIN vip_tier cur ON cur.id = c.vip_tier_id
              JOIN vip_tier lower ON lower.company_id = cur.company_id
                                 AND lower.level = cur.level - 1 AND lower.active
             WHERE c.id BETWEEN %(pmin)s AND %(pmax)s AND c.vip_company_id = %(company)s
               AND c.id != ALL(%(up_ids)s)
             ORDER BY md5(c.id::text || %(day)s::text)
             LIMIT %(n)s
        """, params)
        down = insert_moves(cr, marker, """
            SELECT row_number() OVER () AS seq, partner_id, %(day)s::date AS invoice_date,
                   'out_refund' AS move_type, amount, -1 AS sign
              FROM bench_down
        """, prefix + "R", STEADY_REF, params)
        # the grace period of these customers started 30 days ago and ends today: the
        # engine then stored that day as their next evaluation
        cr.execute("""
            UPDATE res_partner p SET vip_downgrade_date = %(day)s, vip_pending_tier_id = d.lower_id,
                                     vip_eval_date = %(day)s
              FROM bench_down d WHERE p.id = d.partner_id
        """, params)
        # what account.move's hook does for posted invoices (these were inserted in bulk)
        cr.execute("""
            SELECT DISTINCT commercial_partner_id FROM account_move
             WHERE journal_id = %(journal)s AND ref = %(ref)s AND invoice_date = %(day)s
        """, {**params, "journal": marker["journal_id"], "ref": STEADY_REF})
        env["res.partner"]._vip_mark_for_evaluation({pid: day for (pid,) in cr.fetchall()})
        cr.execute("ANALYZE account_move")
    return up, down


def tier_split(odoo, options, marker):
    with bench.environment(odoo, options.db) as env:
        env.cr.execute("""
            SELECT COALESCE(t.code, '-'), COUNT(*), SUM(p.vip_spend)
              FROM res_partner p LEFT JOIN vip_tier t ON t.id = p.vip_tier_id
             WHERE p.vip_company_id = %s GROUP BY 1 ORDER BY 1
        """, [marker["company_id"]])
        return [(code, count, float(spend or 0)) for code, count, spend in env.cr.fetchall()]


# ---------------------------------------------------------------------------
# (a) the engine
# ---------------------------------------------------------------------------
def _instrument(env, timings):
    """Time the engine's phases (a few calls per batch: no measurable overhead)."""
    cls = type(env["vip.tier.engine"])

    def timed(name, func):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    for name in ("_fetch_rows", "_process_batch", "_write_sql", "_apply_tier_changes",
                 "_signal_moments", "_pending_customers"):
        if hasattr(cls, name):  # phases the engine no longer has are reported as 0
            setattr(cls, name, timed(name, getattr(cls, name)))
    # the customer value refresh: every step (a refresh at once runs them all)
    partner_cls = type(env["res.partner"])
    name = "_vip_refresh_customer_value_step"
    if hasattr(partner_cls, name):
        setattr(partner_cls, name, timed(name, getattr(partner_cls, name)))
    if hasattr(cls, "_write_sql"):
        write_sql = cls._write_sql

        def counting_write_sql(self, updates, *args, **kwargs):
            timings["rows_updated"] = timings.get("rows_updated", 0) + len(updates)
            return write_sql(self, updates, *args, **kwargs)

        cls._write_sql = counting_write_sql
    cr = env.cr
    cr.dictfetchall = timed("dictfetchall", cr.dictfetchall)
    cr.commit = timed("commit", cr.commit)


def cron_night(env, company, day, batch_size, full=True):
    """Run the nightly cron the way Odoo's runner does: ``_cron_recompute_tiers`` called again
    while it reports customers remaining, a commit after each call. ``today`` is ``day``;
    ``full``: every customer (as after "Re-evaluate All Now"), else the incremental night
    following the previous day's run.

    :return: ``{"evaluated": n, "changed": tier changes, "calls": cron calls}``
    """
    from unittest.mock import patch  # noqa: PLC0415 (bench only)

    from odoo import fields  # noqa: PLC0415 (imported once Odoo is started)

    engine = env["vip.tier.engine"]
    if full or not hasattr(company, "_vip_request_full_run"):
        engine._save_resume_point(company, 0, False)  # a new run, as "Re-evaluate All Now" does
        if hasattr(company, "_vip_request_full_run"):
            company._vip_request_full_run()
    else:
        # the previous night's run is complete: tonight's is incremental
        engine._save_resume_point(company, 0, day - datetime.timedelta(days=1))
        env.cr.execute("UPDATE res_company SET vip_recompute_full = FALSE WHERE id = %s",
                       [company.id])
        company.invalidate_recordset(["vip_recompute_full"])
    env.cr.commit()
    totals = {"evaluated": 0, "changed": 0, "calls": 0}
    progress = {}
    engine_cls = type(engine)
    recompute = engine_cls._recompute

    def counting_recompute(self, *args, **kwargs):
        result = recompute(self, *args, **kwargs)
        totals["evaluated"] += result["evaluated"]
        totals["changed"] += result["changed"]
        return result

    def notify(self, *, done, remaining, deactivate=False):
        progress.update(done=done, remaining=remaining)

    with patch.object(engine_cls, "_recompute", counting_recompute), \
            patch.object(type(env["ir.cron"]), "_notify_progress", notify), \
            patch.object(fields.Date, "context_today", lambda *args, **kwargs: day):
        while True:
            progress.clear()
            engine._cron_recompute_tiers(batch_size=batch_size)
            totals["calls"] += 1
            env.cr.commit()
            if not progress.get("remaining"):
                break
    return totals


def engine_run(odoo, options, marker, day, trace=False, profile_to=None, full=True):
    """One night of the engine over all customers through the cron's own path (one batch per
    call, committed between calls), measured in a forked child."""
    def child():
        with bench.environment(odoo, options.db) as env:
            company = env["res.company"].browse(marker["company_id"])
            timings = {}
            _instrument(env, timings)
            result, stats = bench.measure(
                lambda: cron_night(env, company, day, options.batch_size, full=full),
                trace=trace, profile_to=profile_to,
            )
            stats.update(result, phases=timings, rss_peak=bench.maxrss_bytes(), day=day)
            return stats

    return bench.run_isolated(odoo, child)


# ---------------------------------------------------------------------------
# (b) the floor
# ---------------------------------------------------------------------------
FLOOR_QUERY = """
SELECT commercial_partner_id,
       SUM(amount_untaxed_signed) FILTER (WHERE invoice_date >= %(start)s) AS spend,
       COUNT(*) FILTER (WHERE invoice_date >= %(start)s AND move_type = 'out_invoice') AS n,
       SUM(amount_untaxed_signed) FILTER (WHERE invoice_date < %(start)s) AS prev_spend,
       COUNT(*) FILTER (WHERE invoice_date < %(start)s AND move_type = 'out_invoice') AS prev_n,
       MAX(invoice_date) FILTER (WHERE move_type = 'out_invoice') AS last_date
  FROM account_move
 WHERE company_id = %(company)s AND state = 'posted'
   AND move_type IN ('out_invoice', 'out_refund')
   AND invoice_date >= %(prev)s AND commercial_partner_id IS NOT NULL
 GROUP BY commercial_partner_id
"""


def floor_run(odoo, options, marker, day, repeat=3):
    params = {"company": marker["company_id"], "start": months_ago(day, 12),
              "prev": months_ago(day, 24)}
    best, rows = None, 0
    with bench.environment(odoo, options.db) as env:
        for _ in range(repeat):
            t0 = time.perf_counter()
            env.cr.execute(FLOOR_QUERY, params)
            rows = len(env.cr.fetchall())
            elapsed = time.perf_counter() - t0
            best = elapsed if best is None else min(best, elapsed)
    return {"seconds": best, "rows": rows}


# ---------------------------------------------------------------------------
# (c) the naive ORM loop
# ---------------------------------------------------------------------------
def naive_run(odoo, options, marker, day):
    """Per customer: read its invoices with the ORM, sum, decide, write. Rolled back."""
    from odoo.addons.vip_customer.tools.vip_rules import decide_tier  # noqa: PLC0415

    with bench.environment(odoo, options.db) as env:
        company = env["res.company"].browse(marker["company_id"])
        env.cr.execute("""
            SELECT id FROM res_partner WHERE vip_company_id = %s
             ORDER BY md5(id::text) LIMIT %s
        """, [company.id, options.sample])
        sample = [pid for (pid,) in env.cr.fetchall()]
        env.invalidate_all()

        def loop():
            Move = env["account.move"]
            Partner = env["res.partner"].with_context(vip_engine=True)
            tiers = env["vip.tier"].search([("company_id", "=", company.id)])
            rules = [tier._to_rule() for tier in tiers]
            windows = sorted({12, *(rule.window_months for rule in rules)})
            starts = {w: months_ago(day, w) for w in windows}
            horizon = min(starts.values())
            for pid in sample:
                partner = Partner.browse(pid)
                moves = Move.search_read(
                    [("company_id", "=", company.id), ("commercial_partner_id", "=", pid),
                     ("state", "=", "posted"), ("move_type", "in", ["out_invoice", "out_refund"]),
                     ("invoice_date", ">=", horizon)],
                    ["invoice_date", "amount_untaxed_signed", "move_type", "payment_state"],
                )
                metrics = {}
                for window, start in starts.items():
                    in_window = [m for m in moves if m["invoice_date"] >= start]
                    metrics[window] = (
                        sum(m["amount_untaxed_signed"] for m in in_window),
                        sum(1 for m in in_window if m["move_type"] == "out_invoice"
                            and m["payment_state"] != "reversed"),
                    )
                decision = decide_tier(rules, metrics, partner.vip_tier_id.id or None,
                                       partner.vip_downgrade_date or None, day)
                spend, count = metrics[12]
                partner.write({
                    "vip_spend": spend,
                    "vip_purchase_count": count,
                    "vip_tier_id": decision.tier_id or False,
                    "vip_pending_tier_id": decision.pending_tier_id or False,
                    "vip_downgrade_date": decision.downgrade_date or False,
                })
            env.flush_all()
            return len(sample)

        count, stats = bench.measure(loop)
        env.cr.rollback()
    stats["customers"] = count
    return stats


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main(argv=None):
    options = bench.parse_args(build_parser(), argv)
    if min(options.customers, options.invoices, options.months, options.sample) < 1:
        raise bench.BenchError("--customers, --invoices, --months and --sample must be >= 1")
    if options.invoices < options.customers:
        raise bench.BenchError("--invoices must be at least --customers (one invoice each)")
    odoo = bench.start_odoo(options)
    started = time.perf_counter()
    bench.prepare_database(odoo, options, MODULES)
    marker = prepare_data(odoo, options)
    if options.prepare_only:
        bench.log(f"data ready in {time.perf_counter() - started:.0f} s (--prepare-only)")
        return
    reset_engine_state(odoo, options, marker)
    anchor = datetime.date.fromisoformat(marker["anchor"])

    bench.log("(a) engine, first full run (every customer new)")
    first = engine_run(odoo, options, marker, anchor)
    split = tier_split(odoo, options, marker)
    bench.log(f"    {first['evaluated']:,} customers, {first['changed']:,} changes, "
              f"{first['seconds']:.1f} s; tiers: "
              + ", ".join(f"{code} {count:,}" for code, count, _spend in split))

    nights = []
    kinds = ([] if options.no_trace else ["traced"]) + ["timed", "full"] + (
        ["profiled"] if options.profile else [])
    for offset, kind in enumerate(kinds, start=1):
        day = anchor + datetime.timedelta(days=offset)
        up, down = advance_night(odoo, options, marker, day)
        bench.log(f"(a) engine, night {day} ({kind}): {up:,} customers pushed up, "
                  f"{down:,} down")
        profile_to = None
        if kind == "profiled":
            bench.DATA_DIR.mkdir(parents=True, exist_ok=True)
            profile_to = str(bench.DATA_DIR / f"{BENCH}.prof")
        stats = engine_run(odoo, options, marker, day, trace=kind == "traced",
                           profile_to=profile_to, full=kind == "full")
        stats["kind"] = kind
        nights.append(stats)
        bench.log(f"    {stats['evaluated']:,} customers, {stats['changed']:,} changes, "
                  f"{stats['seconds']:.1f} s")
    timed = next(night for night in nights if night["kind"] == "timed")

    bench.log(f"(b) floor: raw aggregate query, best of 3 (day {timed['day']})")
    floor = floor_run(odoo, options, marker, datetime.date.fromisoformat(str(timed["day"])))
    bench.log(f"(c) naive ORM loop on {options.sample:,} customers (rolled back)")
    naive = naive_run(odoo, options, marker, datetime.date.fromisoformat(str(timed["day"])))

    report(options, marker, split, first, nights, floor, naive, time.perf_counter() - started)


def report(options, marker, split, first, nights, floor, naive, elapsed):
    by_kind = {night["kind"]: night for night in nights}
    traced, timed, full = by_kind.get("traced", {}), by_kind["timed"], by_kind["full"]
    total = timed["evaluated"] or 1
    a_per = timed["seconds"] / total
    c_per = naive["seconds"] / max(naive["customers"], 1)
    print()
    print(f"tier_recompute: {marker['customers']:,} customers, {marker['invoices']:,} invoices "
          f"+ {marker['refunds']:,} refunds over {marker['months']} months, db {options.db}, "
          f"batch {options.batch_size}")
    print("tier split after the first run: " + ", ".join(
        f"{code} {count:,} ({100 * count / max(first['evaluated'], 1):.1f}%, "
        f"{spend / 1e6:,.1f}M spend)" for code, count, spend in split))
    rows = [
        ["(a) engine, first full run", f"{first['evaluated']:,}", f"{first['changed']:,}",
         bench.fmt_seconds(first["seconds"]), "-", bench.fmt_bytes(first["maxrss_delta"]),
         bench.fmt_bytes(first["rss_peak"])],
    ]
    for night in nights:
        label = {"traced": "(a) engine, incremental night (tracemalloc)",
                 "timed": "(a) engine, incremental night",
                 "full": "(a) engine, full night",
                 "profiled": "(a) engine, incremental (cProfile)"}
        rows.append([label[night["kind"]], f"{night['evaluated']:,}", f"{night['changed']:,}",
                     bench.fmt_seconds(night["seconds"]), bench.fmt_bytes(night.get("py_peak")),
                     bench.fmt_bytes(night["maxrss_delta"]), bench.fmt_bytes(night["rss_peak"])])
    rows.append(["(b) floor: raw aggregate, best of 3", f"{floor['rows']:,}", "-",
                 bench.fmt_seconds(floor["seconds"]), "-", "-", "-"])
    rows.append([f"(c) naive ORM loop, {naive['customers']:,} customers",
                 f"{naive['customers']:,}", "-", bench.fmt_seconds(naive["seconds"]), "-",
                 bench.fmt_bytes(naive["maxrss_delta"]), "-"])
    rows.append(["(c) naive, extrapolated to all", f"{total:,}", "-",
                 bench.fmt_seconds(c_per * total), "-", "-", "-"])
    print()
    bench.print_table(["measure", "customers", "tier changes", "time", "py peak",
                       "RSS delta", "RSS peak"], rows)
    phases = timed.get("phases") or {}
    if phases:
        fetch = phases.get("_fetch_rows", 0.0)
        process = phases.get("_process_batch", 0.0)
        write_sql = phases.get("_write_sql", 0.0)
        orm = phases.get("_apply_tier_changes", 0.0)
        activities = phases.get("_signal_moments", 0.0)
        pending = phases.get("_pending_customers", 0.0)
        value = phases.get("_vip_refresh_customer_value_step", 0.0)
        other = (timed["seconds"] - fetch - process - pending - value
                 - phases.get("commit", 0.0))
        print("steady night, where the time goes: "
              f"aggregate query {fetch - phases.get('dictfetchall', 0.0):.2f} s, "
              f"dictfetchall {phases.get('dictfetchall', 0.0):.2f} s, "
              f"Python decisions {process - write_sql - orm - activities:.2f} s, "
              f"UPDATE ... FROM (VALUES) {write_sql:.2f} s, "
              f"tier changes (ORM, history, chatter) {orm:.2f} s, "
              f"retention activities {activities:.2f} s, "
              f"commits {phases.get('commit', 0.0):.2f} s, "
              f"selecting each call's batch {pending:.2f} s ({timed.get('calls', 0)} cron calls), "
              f"customer value refresh {value:.2f} s, "
              f"other {other:.2f} s; "
              f"{int(phases.get('rows_updated', 0)):,} customer rows updated")
    if by_kind.get("profiled", {}).get("profile"):
        print()
        print("cProfile of the profiled steady night (cumulative, top 40; "
              f"full profile: {bench.DATA_DIR / (BENCH + '.prof')}):")
        print(by_kind["profiled"]["profile"])
    ratio = timed["seconds"] / floor["seconds"] if floor["seconds"] else float("inf")
    full_ratio = full["seconds"] / floor["seconds"] if floor["seconds"] else float("inf")
    a_per = full["seconds"] / (full["evaluated"] or 1)
    factor = c_per / a_per if a_per else float("inf")
    # the traced night's RSS holds tracemalloc's own bookkeeping: its Python peak counts
    memory = max(first["maxrss_delta"], traced.get("py_peak") or 0, timed["maxrss_delta"],
                 full["maxrss_delta"])
    print()
    print(f"per customer: first run {1000 * first['seconds'] / (first['evaluated'] or 1):.3f} ms, "
          f"full night {1000 * a_per:.3f} ms "
          f"(compare the 200k and 1M runs: within 1.5x is the target)")
    bench.print_targets([
        (f"(a) incremental / (b) <= {TARGET_INCREMENTAL:g}", f"{ratio:.2f} ("
         f"{timed['seconds']:.2f} s / {floor['seconds']:.2f} s, {timed['evaluated']:,} customers "
         "evaluated)", ratio <= TARGET_INCREMENTAL),
        (f"(a) full / (b) <= {TARGET_RATIO:g}", f"{full_ratio:.2f} ({full['seconds']:.2f} s / "
         f"{floor['seconds']:.2f} s)", full_ratio <= TARGET_RATIO),
        (f"(c)/(a) per customer >= {TARGET_NAIVE_FACTOR:g}",
         f"{factor:.1f} ({c_per * 1000:.3f} ms / {a_per * 1000:.4f} ms)",
         factor >= TARGET_NAIVE_FACTOR),
        ("peak memory of an engine run < 1 GiB",
         f"{bench.fmt_bytes(memory)} (max of the incremental night's tracemalloc peak and the "
         "RSS growth of the timed nights and of the first run)", memory < TARGET_MEMORY),
    ])
    print(f"(whole bench run: {elapsed:.0f} s)")
    bench.ratio_line(BENCH, ratio)


if __name__ == "__main__":
    bench.main_wrapper(main)
