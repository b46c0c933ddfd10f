"""Benchmark of the points expiry (vip_loyalty, ``vip.loyalty.engine._expire_lots``).

    python bench/points_expiry.py --odoo-src PATH --db NAME \
        [--customers 200000 --lots 2000000 --lapsed 0.2] [--rebuild] [--profile]

Run it with the Odoo's own Python. It creates the database when missing (see bench/README.md),
generates the customers, their points accounts and earned lots with bulk SQL (reused by the
next run; ``--lapsed`` of the lots are past their expiry date, some partly spent) and
measures, each in a transaction rolled back afterwards so that both see the same data:

(a) the expiry job as the cron runs it (its batches one after the other, account locks,
    through the ledger's entry point ``_post_moves``), without the commits the cron runner
    makes between batches;
(b) the floor: plain SQL statements written independently of the engine (no code shared
    with it) computing and writing the same expiries (expiry moves, allocations to their
    lots, account balances, emptied lots), best of 2.

Both results are compared as read back from the tables (lots and points expired,
allocations, the sum and a digest of every balance, a digest of every lot's points left);
a difference is a FAIL line. It prints a table, the targets with PASS/FAIL and, last,
``RATIO points_expiry <(a)/(b)>``.
Exit status 0 after the report whatever the target, non-zero on errors.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402

BENCH = "points_expiry"
MODULES = ["vip_loyalty"]
DATA_VERSION = 1
TARGET_RATIO = 2.0


def build_parser():
    parser = bench.new_parser(__doc__.split("\n\n")[0])
    bench.add_common_args(parser)
    parser.add_argument("--customers", type=int, default=200000)
    parser.add_argument("--lots", type=int, default=2000000, help="earned lots (ledger moves)")
    parser.add_argument("--lapsed", type=float, default=0.2,
                        help="share of the lots past their expiry date")
    parser.add_argument("--batch-size", type=int, default=50000, help="expiry batch size")
    return parser


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def generate(env, options):
    """Customers, accounts and lots with bulk SQL; returns the generation parameters."""
    cr = env.cr
    company = env.ref("base.main_company")
    program = env["vip.loyalty.program"]._get_for_company(company)
    if not program:
        program = env["vip.loyalty.program"].create({"company_id": company.id})
    program.write({"validity_months": 12, "warning_days": 30})
    bench.log("removing the previous bench data")
    cr.execute("""
        DELETE FROM vip_loyalty_move_allocation WHERE lot_id IN (
            SELECT m.id FROM vip_loyalty_move m JOIN res_partner p ON p.id = m.partner_id
             WHERE p.ref = 'vip-bench-points')
    """)
    cr.execute("""
        DELETE FROM vip_loyalty_move WHERE partner_id IN (
            SELECT id FROM res_partner WHERE ref = 'vip-bench-points')
    """)
    cr.execute("""
        DELETE FROM vip_loyalty_account WHERE partner_id IN (
            SELECT id FROM res_partner WHERE ref = 'vip-bench-points')
    """)
    cr.execute("DELETE FROM res_partner WHERE ref = 'vip-bench-points'")
    t0 = time.perf_counter()
    bench.log(f"creating {options.customers:,} customers")
    cr.execute("""
        INSERT INTO res_partner (name, ref, active, is_company, type, lang, autopost_bills,
                                 create_date, write_date, create_uid, write_uid)
        SELECT 'Bench Points Customer ' || g, 'vip-bench-points', true, true, 'contact',
               'en_US', 'ask', now(), now(), 1, 1
          FROM generate_series(1, %s) g
    """, [options.customers])
    cr.execute("""
        UPDATE res_partner SET commercial_partner_id = id, complete_name = name
         WHERE ref = 'vip-bench-points'
    """)
    cr.execute("""
        INSERT INTO vip_loyalty_account (partner_id, company_id, balance, lifetime_earned,
                                         create_date, write_date, create_uid, write_uid)
        SELECT id, %s, 0, 0, now(), now(), 1, 1
          FROM res_partner WHERE ref = 'vip-bench-points'
    """, [company.id])
    bench.log(f"creating {options.lots:,} earned lots ({options.lapsed:.0%} lapsed)")
    # lot i belongs to account (i mod customers); hash-like spread of dates; 1 in 4
    # lapsed lots is partly spent
    cr.execute("""
        WITH accounts AS (
            SELECT a.id, a.partner_id, row_number() OVER (ORDER BY a.id) - 1 AS n
              FROM vip_loyalty_account a JOIN res_partner p ON p.id = a.partner_id
             WHERE p.ref = 'vip-bench-points'
        ), lots AS (
            SELECT g,
                   (g * 7919) %% 1000 < %(lapsed)s * 1000 AS lapsed,
                   100 + (g * 31) %% 900 AS points
              FROM generate_series(0::bigint, %(lots)s - 1) g
        )
        INSERT INTO vip_loyalty_move (
            name, partner_id, company_id, account_id, move_type, date, points, is_lot,
            is_earning, expiry_date, remaining_points, uncovered_points, expired,
            multiplier, user_id, create_uid, write_uid, create_date, write_date)
        SELECT 'Bench lot ' || l.g, a.partner_id, %(company)s, a.id, 'earn',
               CASE WHEN l.lapsed THEN current_date - 400 - (l.g %% 300)::int
                    ELSE current_date - (l.g %% 300)::int END,
               l.points, true, true,
               CASE WHEN l.lapsed THEN current_date - 35 - (l.g %% 300)::int
                    ELSE current_date + 65 - (l.g %% 300)::int + 300 END,
               CASE WHEN l.lapsed AND l.g %% 4 = 0 THEN l.points / 2 ELSE l.points END,
               0, false, 1.0, 1, 1, 1, now(), now()
          FROM lots l JOIN accounts a ON a.n = l.g %% %(customers)s
    """, {"lapsed": options.lapsed, "lots": options.lots, "company": company.id,
          "customers": options.customers})
    cr.execute("""
        UPDATE vip_loyalty_account a
           SET balance = s.remaining, lifetime_earned = s.points
          FROM (SELECT account_id, SUM(remaining_points) AS remaining, SUM(points) AS points
                  FROM vip_loyalty_move m JOIN res_partner p ON p.id = m.partner_id
                 WHERE p.ref = 'vip-bench-points' GROUP BY account_id) s
         WHERE a.id = s.account_id
    """)
    bench.log(f"data generated in {time.perf_counter() - t0:.0f} s")
    return {"version": DATA_VERSION, "customers": options.customers, "lots": options.lots,
            "lapsed": options.lapsed}


def analyze(odoo, db):
    with odoo.sql_db.db_connect(db).cursor() as cr:
        cr._cnx.autocommit = True
        for table in ("vip_loyalty_move", "vip_loyalty_account", "vip_loyalty_move_allocation"):
            cr.execute(f"VACUUM ANALYZE {table}")


# ---------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------
def outcome(cr, today):
    """What a user would see after the expiry, read back from the tables:
    (lots expired today, points expired today, allocations written today, sum of
    balances, a digest of every account's balance, a digest of every lot's points left)."""
    cr.execute("""
        SELECT COUNT(*), COALESCE(-SUM(points), 0) FROM vip_loyalty_move
         WHERE move_type = 'expire' AND date = %s AND create_date = now() at time zone 'UTC'
    """, [today])
    lots, points = cr.fetchone()
    cr.execute("""
        SELECT COUNT(*) FROM vip_loyalty_move_allocation al
          JOIN vip_loyalty_move m ON m.id = al.move_id
         WHERE m.move_type = 'expire' AND m.date = %s
           AND m.create_date = now() at time zone 'UTC' AND al.lot_id = m.reversed_move_id
           AND al.points = -m.points
    """, [today])
    allocations = cr.fetchone()[0]
    cr.execute("""
        SELECT COALESCE(SUM(balance), 0), md5(string_agg(id || ':' || balance, ',' ORDER BY id))
          FROM vip_loyalty_account
    """)
    balances, balance_digest = cr.fetchone()
    cr.execute("""
        SELECT md5(string_agg(id || ':' || remaining_points || ':' || expired, ','
                              ORDER BY id))
          FROM vip_loyalty_move WHERE is_lot
    """)
    lot_digest = cr.fetchone()[0]
    return lots, int(points), allocations, int(balances), balance_digest, lot_digest


def run_cron(odoo, options, profile_to=None):
    """(a) the cron's batches one after the other in one transaction (the runner would
    commit between them), through the ledger's entry point."""
    with bench.environment(odoo, options.db) as env:
        today = odoo.fields.Date.context_today(env["res.partner"])
        engine = env["vip.loyalty.engine"]
        result, stats = bench.measure(
            lambda: engine._expire_lots(today=today, batch_size=options.batch_size),
            profile_to=profile_to,
        )
        env.flush_all()
        checked = outcome(env.cr, today)
        env.cr.rollback()
    return result, stats, checked


# (b) The floor, written independently of the engine: the plain statements a DBA would
# run by hand for the same result, one after the other. Lapsed lots are marked first
# (the set the other statements work on), then the expiry moves, their allocations,
# the balances, and the lots emptied.
FLOOR_SQL = [
    """
    CREATE TEMP TABLE bench_lapsed ON COMMIT DROP AS
    SELECT id, name, partner_id, company_id, account_id, remaining_points
      FROM vip_loyalty_move
     WHERE is_lot AND remaining_points > 0 AND expiry_date <= %(today)s
    """,
    "ANALYZE bench_lapsed",
    """
    INSERT INTO vip_loyalty_move (
        name, partner_id, company_id, account_id, move_type, date, points, is_lot, is_earning,
        remaining_points, uncovered_points, expired, reversed_move_id, reason,
        user_id, create_uid, write_uid, create_date, write_date)
    SELECT 'Expired: ' || name, partner_id, company_id, account_id, 'expire', %(today)s,
           -remaining_points, false, false, 0, 0, false, id, 'Validity period over',
           1, 1, 1, now() at time zone 'UTC', now() at time zone 'UTC'
      FROM bench_lapsed
    """,
    """
    INSERT INTO vip_loyalty_move_allocation (move_id, lot_id, points, company_id)
    SELECT m.id, m.reversed_move_id, -m.points, m.company_id
      FROM vip_loyalty_move m
     WHERE m.move_type = 'expire' AND m.date = %(today)s
       AND m.create_date = now() at time zone 'UTC'
    """,
    """
    UPDATE vip_loyalty_account a SET balance = a.balance - l.points
      FROM (SELECT account_id, SUM(remaining_points) AS points
              FROM bench_lapsed GROUP BY account_id) l
     WHERE a.id = l.account_id
    """,
    """
    UPDATE vip_loyalty_move SET remaining_points = 0, expired = true
     WHERE id IN (SELECT id FROM bench_lapsed)
    """,
]


def run_floor(odoo, options):
    import datetime  # noqa: PLC0415

    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        today = datetime.date.today()

        def floor():
            for query in FLOOR_SQL:
                cr.execute(query, {"today": today})

        _result, stats = bench.measure(floor)
        checked = outcome(cr, today)
        cr.rollback()
    return stats, checked


def main():
    options = bench.parse_args(build_parser())
    odoo = bench.start_odoo(options)
    bench.prepare_database(odoo, options, MODULES)
    wanted = {"version": DATA_VERSION, "customers": options.customers, "lots": options.lots,
              "lapsed": options.lapsed}
    with bench.environment(odoo, options.db) as env:
        marker = bench.read_marker(env.cr, BENCH)
        if marker.get("params") != wanted or options.rebuild:
            params = generate(env, options)
            bench.write_marker(env.cr, BENCH, {"params": params})
            env.cr.commit()
            fresh = True
        else:
            bench.log("reusing the generated data (--rebuild to regenerate)")
            fresh = False
    if fresh:
        analyze(odoo, options.db)

    bench.log("(b) floor: plain SQL statements")
    floor_runs = [run_floor(odoo, options) for _i in range(2)]
    floor_stats, floor_checked = min(floor_runs, key=lambda run: run[0]["seconds"])
    bench.log("(a) expiry job")
    profile_to = str(bench.DATA_DIR / "points_expiry.prof") if options.profile else None
    expired, cron_stats, cron_checked = run_cron(odoo, options)
    if profile_to:
        bench.DATA_DIR.mkdir(parents=True, exist_ok=True)
        run_cron(odoo, options, profile_to=profile_to)
        bench.log(f"profile written to {profile_to}")
    same = cron_checked == floor_checked and expired == cron_checked[0]
    ratio = cron_stats["seconds"] / max(floor_stats["seconds"], 1e-9)
    print()
    print(f"points_expiry: {options.customers:,} customers, {options.lots:,} lots, "
          f"{options.lapsed:.0%} lapsed, batch {options.batch_size:,}")
    bench.print_table(
        ["pass", "seconds", "lots expired", "points expired", "allocations", "balances after",
         "balances digest", "lots digest"],
        [
            [label, bench.fmt_seconds(stats["seconds"]), f"{checked[0]:,}", f"{checked[1]:,}",
             f"{checked[2]:,}", f"{checked[3]:,}", checked[4][:8], checked[5][:8]]
            for label, stats, checked in (
                ("(a) expiry job (_expire_lots)", cron_stats, cron_checked),
                ("(b) floor: plain SQL", floor_stats, floor_checked),
            )
        ],
    )
    bench.print_targets([
        (f"expiry job <= {TARGET_RATIO:g}x the floor", f"{ratio:.2f}x", ratio <= TARGET_RATIO),
        ("same expiries, allocations, balances and lots as the floor",
         f"{cron_checked[0]:,} lots by the job, {floor_checked[0]:,} by the floor", same),
    ])
    bench.ratio_line(BENCH, ratio)


if __name__ == "__main__":
    bench.main_wrapper(main)
