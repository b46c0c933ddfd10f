"""Benchmark of the program KPIs (vip_customer, ``vip.kpi.engine._compute_range``).

    python bench/program_kpis.py --odoo-src PATH --db NAME \
        [--customers 200000 --invoices 2000000 --months 24 --vip-share 0.25] [--rebuild]

Run it with the Odoo's own Python. It reuses the customers and posted invoices of
``tier_recompute.py`` (same generator, same sizes, generated when missing), adds two years of
effective-dated tier history with bulk SQL (the tier engine's own table: ``--vip-share`` of the
customers VIP, ~2% of them changing tier each month, some leaving and coming back) and twenty
account managers, then measures in one run:

(a) the engine computing one year's KPIs by month (the twelve months before the bench day):
    every (customer, month) fact and the month summaries, as the nightly cron would, in a
    forked child; seconds, fact rows, peak memory;
(b) the floor: one raw aggregate query written independently over the same rows (the year's
    purchases per month and tier at the month's start, joined to the tier history), fully
    fetched, best of 3.

The engine's spend and purchasing customers per month and tier at start are compared with
the floor's (they must be equal). It prints a table, the target with PASS/FAIL and, last,
``RATIO program_kpis <(a)/(b)>``. Exit status 0 after the report whatever the target.
"""

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402
import tier_recompute as data  # noqa: E402  (the customers and invoices generator)

BENCH = "program_kpis"
MODULES = ["vip_customer"]
HISTORY_VERSION = 1
SEED = 0.2718
MANAGERS = 20
MONTHLY_CHANGE = 0.02  # share of the VIP customers whose tier changes in a month
TARGET_RATIO = 3.0


def build_parser():
    parser = bench.new_parser(__doc__.split("\n\n")[0])
    bench.add_common_args(parser)
    parser.add_argument("--customers", type=int, default=200000)
    parser.add_argument("--invoices", type=int, default=2000000,
                        help="posted customer invoices (plus ~8%% refunds)")
    parser.add_argument("--months", type=int, default=24,
                        help="the invoices and the tier history spread over this many months")
    parser.add_argument("--vip-share", type=float, default=0.25,
                        help="share of the customers holding a tier two years ago")
    # tier_recompute's prepare_data reads these
    parser.add_argument("--sample", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=5000, help=argparse.SUPPRESS)
    return parser



def month_start(day):
    return day.replace(day=1)


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


# ---------------------------------------------------------------------------
# Data: tier history and account managers
# ---------------------------------------------------------------------------
def ensure_managers(env, company_id):
    Users = env["res.users"].with_context(no_reset_password=True, mail_create_nolog=True)
    group = env.ref("vip_customer.group_vip_user")
    users = Users.search([("login", "like", "vip-bench-manager-%")], order="id")
    for n in range(len(users), MANAGERS):
        users |= Users.create({
            "name": f"Bench Account Manager {n + 1}", "login": f"vip-bench-manager-{n + 1}",
            "company_id": company_id, "company_ids": [(6, 0, [company_id])],
            "groups_id": [(6, 0, [env.ref("base.group_user").id, group.id])],
        })
    return users.ids


def generate_history(env, marker, options):
    """Two years of tier history for the bench customers (replacing any), their current tier,
    VIP company and account manager, with bulk SQL; returns the marker values."""
    cr = env.cr
    company_id = marker["company_id"]
    anchor = datetime.date.fromisoformat(marker["anchor"])
    start = add_months(month_start(anchor), -options.months)
    days = (anchor - start).days
    tiers = dict(env["vip.tier"].search([("company_id", "=", company_id)]).mapped(
        lambda t: (t.code, t.id)))
    managers = ensure_managers(env, company_id)
    prange = [marker["partner_min"], marker["partner_max"]]
    t0 = time.perf_counter()
    cr.execute("DELETE FROM vip_tier_history WHERE partner_id BETWEEN %s AND %s", prange)
    cr.execute("SELECT setseed(%s)", [SEED])
    # events: the initial tier of the VIP share near the start, then ~MONTHLY_CHANGE of the
    # customers a month move to a random tier or out (NULL), so some leave and come back
    cr.execute("""
        CREATE TEMP TABLE bench_event ON COMMIT DROP AS
        SELECT partner_id, date, tier FROM (
            SELECT p.id AS partner_id, %(start)s::date + floor(random() * 28)::int AS date,
                   (ARRAY[%(a)s, %(b)s, %(b)s, %(b)s, %(c)s, %(c)s, %(c)s, %(c)s, %(c)s,
                          %(c)s])[1 + floor(random() * 10)::int] AS tier, random() AS r
              FROM res_partner p
             WHERE p.id BETWEEN %(pmin)s AND %(pmax)s AND p.ref = %(ref)s
        ) s WHERE r < %(share)s
        UNION ALL
        SELECT p.id, %(start)s::date + 28 + floor(random() * (%(days)s - 28))::int,
               (ARRAY[%(a)s, %(b)s, %(c)s, NULL])[1 + floor(random() * 4)::int]
          FROM res_partner p, generate_series(1, %(rounds)s) g
         WHERE p.id BETWEEN %(pmin)s AND %(pmax)s AND p.ref = %(ref)s
           AND random() < %(change)s;
    """, {"start": start, "days": days, "a": tiers["A"], "b": tiers["B"], "c": tiers["C"],
          "pmin": prange[0], "pmax": prange[1], "ref": data.REF, "share": options.vip_share,
          "rounds": options.months, "change": MONTHLY_CHANGE * options.vip_share})
    cr.execute("""
        INSERT INTO vip_tier_history (partner_id, company_id, date, old_tier_id, new_tier_id,
                                      direction, reason, window_months, create_uid, write_uid,
                                      create_date, write_date)
        SELECT partner_id, %(company)s, date, old_tier, tier,
               CASE WHEN old_tier IS NULL THEN 'new' WHEN tier IS NULL THEN 'removed'
                    WHEN ot.level < nt.level THEN 'upgrade' ELSE 'downgrade' END,
               'rule', 12, 1, 1, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
          FROM (SELECT partner_id, date, tier,
                       LAG(tier) OVER (PARTITION BY partner_id ORDER BY date) AS old_tier
                  FROM (SELECT DISTINCT ON (partner_id, date) partner_id, date, tier
                          FROM bench_event ORDER BY partner_id, date) d) e
          LEFT JOIN vip_tier ot ON ot.id = e.old_tier
          LEFT JOIN vip_tier nt ON nt.id = e.tier
         WHERE e.tier IS DISTINCT FROM e.old_tier
    """, {"company": company_id})
    history = cr.rowcount
    cr.execute("""
        UPDATE res_partner p
           SET vip_company_id = %(company)s, vip_tier_id = last.tier,
               vip_account_manager_id = (%(managers)s::int[])[1 + p.id %% %(n)s]
          FROM (SELECT DISTINCT ON (partner_id) partner_id, new_tier_id AS tier
                  FROM vip_tier_history WHERE partner_id BETWEEN %(pmin)s AND %(pmax)s
                 ORDER BY partner_id, date DESC, id DESC) last
         WHERE p.id = last.partner_id
    """, {"company": company_id, "managers": managers, "n": len(managers),
          "pmin": prange[0], "pmax": prange[1]})
    bench.log(f"{history:,} tier history rows, {cr.rowcount:,} customers with a tier history, "
              f"{len(managers)} account managers in {time.perf_counter() - t0:.0f} s")
    return {"version": HISTORY_VERSION, "customers": marker["customers"],
            "invoices": marker["invoices"], "months": options.months,
            "vip_share": options.vip_share, "history": history, "anchor": marker["anchor"]}


def prepare(odoo, options):
    marker = data.prepare_data(odoo, options)
    with bench.environment(odoo, options.db) as env:
        mine = bench.read_marker(env.cr, BENCH)
        wanted = {"version": HISTORY_VERSION, "customers": marker["customers"],
                  "invoices": marker["invoices"], "months": options.months,
                  "vip_share": options.vip_share, "anchor": marker["anchor"]}
        if {key: mine.get(key) for key in wanted} != wanted:
            bench.log("generating the tier history")
            mine = generate_history(env, marker, options)
            bench.write_marker(env.cr, BENCH, mine)
        else:
            bench.log(f"reusing the tier history ({mine['history']:,} rows)")
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE vip_tier_history")
        cr.execute("ANALYZE res_partner")
    return marker, mine


# ---------------------------------------------------------------------------
# (a) the engine
# ---------------------------------------------------------------------------
def engine_run(odoo, options, marker, date_from, date_to):
    def child():
        with bench.environment(odoo, options.db) as env:
            company = env["res.company"].browse(marker["company_id"])
            env.cr.execute("DELETE FROM vip_kpi_fact WHERE company_id = %s", [company.id])
            env.cr.commit()
            engine = env["vip.kpi.engine"]
            _result, stats = bench.measure(
                lambda: engine._compute_range(company, "month", date_from, date_to),
                trace=False,
            )
            env.cr.execute("SELECT COUNT(*) FROM vip_kpi_fact WHERE company_id = %s "
                           "AND period_type = 'month' AND date_start BETWEEN %s AND %s",
                           [company.id, date_from, date_to])
            stats["facts"] = env.cr.fetchone()[0]
            env.cr.execute("""
                SELECT date_start, tier_start_id, COUNT(*) FILTER (WHERE purchase_count > 0
                       OR spend <> 0), ROUND(SUM(spend), 2)
                  FROM vip_kpi_fact
                 WHERE company_id = %s AND period_type = 'month' AND partner_id IS NOT NULL
                   AND date_start BETWEEN %s AND %s AND tier_start_id IS NOT NULL
                 GROUP BY 1, 2
            """, [company.id, date_from, date_to])
            stats["cells"] = {f"{d}/{t}": [n, float(s or 0)] for d, t, n, s in env.cr.fetchall()}
            stats["rss_peak"] = bench.maxrss_bytes()
            return stats

    return bench.run_isolated(odoo, child)


# ---------------------------------------------------------------------------
# (b) the floor
# ---------------------------------------------------------------------------
FLOOR_QUERY = """
SELECT p.month, h.new_tier_id AS tier, COUNT(*) AS customers, ROUND(SUM(p.spend), 2) AS spend,
       SUM(p.purchases) AS purchases
  FROM (SELECT commercial_partner_id AS partner_id,
               date_trunc('month', invoice_date)::date AS month,
               SUM(amount_untaxed_signed) AS spend,
               COUNT(*) FILTER (WHERE move_type = 'out_invoice'
                                AND payment_state IS DISTINCT FROM 'reversed') AS purchases
          FROM account_move
         WHERE company_id = %(company)s AND state = 'posted'
           AND move_type IN ('out_invoice', 'out_refund')
           AND invoice_date BETWEEN %(start)s AND %(end)s
           AND commercial_partner_id IS NOT NULL
         GROUP BY 1, 2) p
  JOIN LATERAL (SELECT new_tier_id FROM vip_tier_history t
                 WHERE t.partner_id = p.partner_id AND t.company_id = %(company)s
                   AND t.date < p.month
                 ORDER BY t.date DESC, t.id DESC LIMIT 1) h ON h.new_tier_id IS NOT NULL
 GROUP BY 1, 2
"""


def floor_run(odoo, options, marker, date_from, date_end, repeat=3):
    params = {"company": marker["company_id"], "start": date_from, "end": date_end}
    best, cells = None, {}
    with bench.environment(odoo, options.db) as env:
        for _ in range(repeat):
            t0 = time.perf_counter()
            env.cr.execute(FLOOR_QUERY, params)
            rows = env.cr.fetchall()
            elapsed = time.perf_counter() - t0
            best = elapsed if best is None else min(best, elapsed)
        cells = {f"{m}/{t}": [n, float(s or 0)] for m, t, n, s, _p in rows}
    return {"seconds": best, "rows": len(cells), "cells": cells}


def main(argv=None):
    options = bench.parse_args(build_parser(), argv)
    if min(options.customers, options.invoices, options.months) < 1:
        raise bench.BenchError("--customers, --invoices and --months must be >= 1")
    if options.months < 13:
        raise bench.BenchError("--months must be at least 13 (one measured year and before)")
    if not 0 < options.vip_share <= 1:
        raise bench.BenchError("--vip-share must be in ]0, 1]")
    if options.invoices < options.customers:
        raise bench.BenchError("--invoices must be at least --customers (one invoice each)")
    odoo = bench.start_odoo(options)
    started = time.perf_counter()
    bench.prepare_database(odoo, options, MODULES)
    marker, history = prepare(odoo, options)
    anchor = datetime.date.fromisoformat(marker["anchor"])
    date_to = add_months(month_start(anchor), -1)  # the last whole month
    date_from = add_months(date_to, -11)
    date_end = month_start(anchor) - datetime.timedelta(days=1)

    bench.log(f"(a) engine: KPIs by month from {date_from} to {date_end}")
    engine = engine_run(odoo, options, marker, date_from, date_to)
    bench.log(f"    {engine['facts']:,} facts in {engine['seconds']:.1f} s")
    bench.log("(b) floor: raw aggregate, best of 3")
    floor = floor_run(odoo, options, marker, date_from, date_end)
    report(options, marker, history, engine, floor, time.perf_counter() - started)


def report(options, marker, history, engine, floor, elapsed):
    print()
    print(f"program_kpis: {marker['customers']:,} customers, {marker['invoices']:,} invoices "
          f"+ {marker['refunds']:,} refunds over {marker['months']} months, "
          f"{history['history']:,} tier history rows (VIP share {history['vip_share']:g}), "
          f"db {options.db}")
    rows = [
        ["(a) engine: 12 months of KPIs", f"{engine['facts']:,} facts",
         bench.fmt_seconds(engine["seconds"]), bench.fmt_bytes(engine["maxrss_delta"]),
         bench.fmt_bytes(engine["rss_peak"])],
        ["(b) floor: raw aggregate, best of 3", f"{floor['rows']:,} cells",
         bench.fmt_seconds(floor["seconds"]), "-", "-"],
    ]
    print()
    bench.print_table(["measure", "rows", "time", "RSS delta", "RSS peak"], rows)
    mine, theirs = engine["cells"], floor["cells"]
    differ = sorted(key for key in set(mine) | set(theirs)
                    if key not in mine or key not in theirs
                    or mine[key][0] != theirs[key][0]
                    or abs(mine[key][1] - theirs[key][1]) > 0.011)
    ratio = engine["seconds"] / floor["seconds"] if floor["seconds"] else float("inf")
    print()
    bench.print_targets([
        (f"(a)/(b) <= {TARGET_RATIO:g}",
         f"{ratio:.2f} ({engine['seconds']:.2f} s / {floor['seconds']:.2f} s)",
         ratio <= TARGET_RATIO),
        ("engine = floor: purchasing customers and spend per month and tier at start",
         f"{len(theirs)} cells, {len(differ)} differ"
         + (f" (first: {differ[:3]}: engine {[mine.get(k) for k in differ[:3]]}, "
            f"floor {[theirs.get(k) for k in differ[:3]]})" if differ else ""),
         not differ and bool(theirs)),
    ])
    print(f"(whole bench run: {elapsed:.0f} s)")
    bench.ratio_line(BENCH, ratio)


if __name__ == "__main__":
    bench.main_wrapper(main)
