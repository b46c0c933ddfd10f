"""Benchmark of the key-moment engine (vip_customer, ``vip.moment.engine``, nightly cron).

    python bench/key_moments.py --odoo-src PATH --db NAME \
        [--customers 200000 --hit-share 0.02 --batch-size 2000] [--small] [--no-trace]
        [--rebuild] [--profile]

Run it with the Odoo's own Python. It creates the database when missing (see bench/README.md),
generates with bulk SQL the VIP customers (tiers A/B/C, twenty account managers), the state the
triggers read (tier history, churn levels, planned downgrades, ...), twenty active rules of a
mix of trigger types (created through the ORM) and the moments of the past nights (our own
table: every occasion before the measured night is already recorded), then the events of the
measured night: about ``--hit-share`` of the customers get a new moment, spread over the rules.
It measures in one run:

(a) the engine: the nightly cron ``_cron_run_key_moments`` called until it reports nothing
    remaining, a commit after each call, as Odoo's cron runner does (every task through
    ``mail.activity.create(vals_list)``); in a forked child, once under tracemalloc (memory),
    once timed (split by phase); seconds, moments, tasks, peak memory;
(b) the floor: one raw SQL query written independently from the trigger contract, selecting
    the (customer, rule) pairs that get a moment that night, fully fetched, best of 3.

The engine's created (customer, rule) pairs must equal the floor's. It prints a table, the
targets with PASS/FAIL and, last, ``RATIO key_moments <(a)/(b)>``. Exit status 0 after the
report whatever the targets, non-zero on errors.
"""

import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402
import program_kpis  # noqa: E402  (the twenty account managers)
import tier_recompute  # noqa: E402  (the company settings and the three tiers)

BENCH = "key_moments"
MODULES = ["vip_customer"]
DATA_VERSION = 2
SEED = 0.5772
REF = "vip-bench-moments"  # ref of the generated customers
RULE_PREFIX = "Bench moment: "
TIER_SHARES = (("A", 0.04), ("B", 0.15), ("C", 0.81))
LOOKBACK_DAYS = 7  # the trigger contract: events of the last 7 days (EVENT_LOOKBACK_DAYS)
SMALL_CUSTOMERS = 5000
TARGET_RATIO = 3.0
TARGET_MEMORY = bench.GIB

# The rules of a trigger type, the first ones when it has fewer (label, tiers, cycle, cool-down
# days): the tiers split the customers so that a tier-A customer with a moment gets two tasks
# (a tier-B one two with five rules a trigger), a tier-C one one.
RULE_SHAPES = [
    ("A call", ["A"], "daily", 30),
    ("B call", ["B"], "weekly", 0),
    ("C call", ["C"], "daily", 0),
    ("A visit", ["A"], "monthly", 0),
    ("B review", ["B"], "daily", 60),
]
# the trigger types measured, in order of preference: those the engine has (the core ones
# always exist), at most five; the twenty rules are shared out between them
TRIGGER_PREFERENCE = ["cadence", "birthday", "spend_drop", "churn_high", "tier_up", "tier_down",
                      "downgrade_pending"]
MAX_TRIGGERS = 6
# dated triggers: their rules run daily with no days ahead (a weekly cycle would give a
# week of cadence contacts at once, not a night's)
SCHEDULED = {"cadence", "birthday"}
CADENCE_DAYS = 90
RULES = 20


def build_parser():
    parser = bench.new_parser(__doc__.split("\n\n")[0])
    bench.add_common_args(parser)
    parser.add_argument("--customers", type=int, default=200000)
    parser.add_argument("--small", action="store_true",
                        help=f"smoke run: {SMALL_CUSTOMERS:,} customers (overrides --customers)")
    parser.add_argument("--hit-share", type=float, default=0.02,
                        help="share of the customers getting a moment on the measured night")
    parser.add_argument("--no-trace", action="store_true",
                        help="skip the night under tracemalloc (several times slower; the "
                        "timed night's RSS growth is still reported)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="moments per cron call (default: the engine's MOMENT_BATCH_SIZE)")
    return parser


# ---------------------------------------------------------------------------
# Triggers: the data each one reads, and the floor's independent candidate query
# ---------------------------------------------------------------------------
# Each trigger has:
# - "background": SQL (params: day, ref, tier ids, scale) giving the state before the measured
#   night (its occasions are then recorded as the moments of past nights);
# - "night": SQL giving the measured night's new occasions;
# - "floor": the candidates of the rules ``br`` (rule_id, partner_id, okey, odate), written
#   from the trigger contract (the spec), not from the engine's code.
TRIGGERS = {
    "cadence": {
        # last contact within the last 89 days: the next one (every 90 days) is to come
        "background": """
            UPDATE res_partner SET vip_last_followup_date = %(day)s::date - 1
                                   - floor(random() * (%(cadence)s - 1))::int
             WHERE ref = %(ref)s
        """,
        "night": """
            UPDATE res_partner SET vip_last_followup_date = %(day)s::date - %(cadence)s
             WHERE ref = %(ref)s AND random() < 0.004 * %(scale)s
        """,
        # the next contact: the cadence after the latest of the last follow-up, the day the
        # tier came and the rule's last processed (done) or dismissed (cancelled) contact;
        # nothing while a task of the rule is open
        "floor": """
            SELECT br.id, p.id, 'cadence:' || to_char(n.next, 'YYYY-MM-DD'), n.next
              FROM br
              JOIN res_partner p ON p.vip_company_id = br.company_id
               AND p.id = p.commercial_partner_id
             CROSS JOIN LATERAL (
                   SELECT (GREATEST(p.vip_last_followup_date, p.vip_tier_since, (
                              SELECT MAX(CASE WHEN o.state = 'done' THEN o.date_done
                                              ELSE o.occasion_date END)
                                FROM vip_moment_occurrence o
                               WHERE o.rule_id = br.id AND o.partner_id = p.id
                                 AND o.state IN ('done', 'cancelled')))
                           + br.interval_days)::date AS next) n
             WHERE br.trigger_type = 'cadence' AND n.next <= %(day)s
               AND NOT EXISTS (SELECT 1 FROM vip_moment_occurrence o
                                WHERE o.rule_id = br.id AND o.partner_id = p.id
                                  AND o.state = 'open')
        """,
    },
    "birthday": {
        # 60%% of the customers (VIP individuals) have a birthday, none of them today
        "background": """
            UPDATE res_partner p SET vip_birthday = b.day + (b.day = b.today)::int,
                                     vip_birthday_month = EXTRACT(MONTH FROM b.day
                                                                  + (b.day = b.today)::int)
              FROM (SELECT id, d + floor(random() * 365)::int AS day,
                           make_date(EXTRACT(YEAR FROM d)::int, %(month)s, %(dom)s) AS today
                      FROM (SELECT id, make_date(1960 + 4 * floor(random() * 10)::int, 1, 1) AS d
                              FROM res_partner WHERE ref = %(ref)s AND random() < 0.6) x) b
             WHERE p.id = b.id
        """,
        "night": """
            UPDATE res_partner
               SET vip_birthday = make_date(1960 + 4 * floor(random() * 10)::int, %(month)s,
                                            %(dom)s),
                   vip_birthday_month = %(month)s
             WHERE ref = %(ref)s AND random() < 0.003 * %(scale)s
        """,
        # a person's birthday today (not in the year they were born)
        "floor": """
            SELECT br.id, p.id, 'birthday:' || EXTRACT(YEAR FROM %(day)s::date)::int,
                   %(day)s::date
              FROM br
              JOIN res_partner p ON p.is_company IS NOT TRUE AND p.vip_birthday IS NOT NULL
              JOIN res_partner cp ON cp.id = p.commercial_partner_id
               AND cp.vip_company_id = br.company_id
             WHERE br.trigger_type = 'birthday'
               AND EXTRACT(MONTH FROM p.vip_birthday) = %(month)s
               AND EXTRACT(DAY FROM p.vip_birthday) = %(dom)s
               AND EXTRACT(YEAR FROM p.vip_birthday) < EXTRACT(YEAR FROM %(day)s::date)
        """,
    },
    "spend_drop": {
        # every customer buys twice in each of the two 90-day windows (a customer's amounts
        # within 20%% of each other); 1.2%% of them bought for 30%% of that in the last window
        # (their drop was signalled on a past night)
        "background": """
            SELECT row_number() OVER () AS seq, p.id AS partner_id,
                   %(day)s::date - w.back - floor(random() * 90)::int AS invoice_date,
                   'out_invoice' AS move_type,
                   round(((100 + p.id %% 997) * (0.8 + 0.4 * random())
                          * CASE WHEN w.back = 0 AND p.id %% 1000 < 12 THEN 0.3 ELSE 1 END
                         )::numeric, 2) AS amount, 1 AS sign
              FROM res_partner p, (VALUES (0), (0), (90), (90)) w (back)
             WHERE p.ref = %(ref)s
        """,
        # the night: a refund of most of the last window's spend, dated today
        "night": """
            SELECT row_number() OVER () AS seq, p.id AS partner_id, %(day)s::date AS invoice_date,
                   'out_refund' AS move_type, round((1.8 * (100 + p.id %% 997))::numeric, 2)
                   AS amount, -1 AS sign
              FROM res_partner p
             WHERE p.ref = %(ref)s AND p.id %% 1000 >= 12 AND random() < 0.0035 * %(scale)s
        """,
        "moves": True,
        "floor": """
            SELECT br.id, s.partner_id, 'spend_drop:' || (%(day)s::date - br.window_days + 1),
                   %(day)s::date
              FROM br
              JOIN (
                   SELECT w.window_days, w.company_id, m.commercial_partner_id AS partner_id,
                          SUM(m.amount_untaxed_signed) FILTER (
                              WHERE m.invoice_date > %(day)s::date - w.window_days) AS last,
                          SUM(m.amount_untaxed_signed) FILTER (
                              WHERE m.invoice_date <= %(day)s::date - w.window_days) AS prev
                     FROM (SELECT DISTINCT window_days, company_id FROM br
                            WHERE trigger_type = 'spend_drop') w
                     JOIN account_move m ON m.company_id = w.company_id
                      AND m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund')
                      AND m.invoice_date > %(day)s::date - 2 * w.window_days
                      AND m.invoice_date <= %(day)s AND m.commercial_partner_id IS NOT NULL
                    GROUP BY 1, 2, 3
              ) s ON s.window_days = br.window_days AND s.company_id = br.company_id
             WHERE br.trigger_type = 'spend_drop' AND s.prev > 0
               AND COALESCE(s.last, 0) * 100 <= s.prev * (100 - br.threshold_percent)
               AND NOT EXISTS (SELECT 1 FROM vip_moment_occurrence o
                                WHERE o.rule_id = br.id AND o.partner_id = s.partner_id
                                  AND o.date > %(day)s::date - br.window_days)
        """,
    },
    "churn_high": {
        "background": """
            UPDATE res_partner p
               SET vip_churn_level = CASE WHEN s.r < 0.05 THEN 'high'
                                          WHEN s.r < 0.15 THEN 'medium' ELSE 'low' END,
                   vip_churn_high_since = CASE WHEN s.r < 0.05
                                               THEN %(day)s::date - 1 - floor(s.r2 * 365)::int
                                          END
              FROM (SELECT id, random() AS r, random() AS r2 FROM res_partner
                     WHERE ref = %(ref)s) s
             WHERE p.id = s.id
        """,
        "night": """
            UPDATE res_partner p
               SET vip_churn_level = 'high', vip_churn_high_since = %(day)s
             WHERE p.ref = %(ref)s
               AND CASE WHEN p.vip_churn_level = 'high' THEN random() < 0.02 * %(scale)s
                        ELSE random() < 0.003 * %(scale)s END
        """,
        "floor": """
            SELECT br.id, p.id, 'churn:' || p.vip_churn_high_since, p.vip_churn_high_since
              FROM br JOIN res_partner p ON p.vip_company_id = br.company_id
             WHERE br.trigger_type = 'churn_high' AND p.vip_churn_level = 'high'
               AND p.vip_churn_high_since IS NOT NULL
        """,
    },
    "downgrade_pending": {
        "background": """
            UPDATE res_partner p
               SET vip_downgrade_date = %(day)s::date + 1 + floor(random() * 30)::int,
                   vip_pending_tier_id = CASE p.vip_tier_id WHEN %(a)s THEN %(b)s
                                         ELSE %(c)s END
             WHERE p.ref = %(ref)s AND p.vip_tier_id IN (%(a)s, %(b)s) AND random() < 0.15
        """,
        "night": """
            UPDATE res_partner p
               SET vip_downgrade_date = %(day)s::date + 30,
                   vip_pending_tier_id = CASE p.vip_tier_id WHEN %(a)s THEN %(b)s
                                         ELSE %(c)s END
             WHERE p.ref = %(ref)s AND p.vip_tier_id IN (%(a)s, %(b)s)
               AND p.vip_downgrade_date IS NULL AND random() < 0.03 * %(scale)s
        """,
        "floor": """
            SELECT br.id, p.id, 'downgrade:' || p.vip_downgrade_date, p.vip_downgrade_date
              FROM br JOIN res_partner p ON p.vip_company_id = br.company_id
             WHERE br.trigger_type = 'downgrade_pending' AND p.vip_downgrade_date IS NOT NULL
        """,
    },
    "tier_up": {
        # tier_up and tier_down share the history (generated once, by tier_up's entry)
        "background": """
            INSERT INTO vip_tier_history (partner_id, company_id, date, old_tier_id,
                                          new_tier_id, direction, reason, window_months,
                                          create_uid, write_uid, create_date, write_date)
            SELECT p.id, %(company)s, %(day)s::date - g, h.old, p.vip_tier_id, h.direction,
                   'rule', 12, 1, 1, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
              FROM res_partner p, generate_series(1, 30) g,
                   LATERAL (SELECT CASE WHEN p.vip_tier_id = %(c)s THEN NULL
                                        WHEN p.vip_tier_id = %(b)s THEN %(c)s
                                        ELSE %(b)s END AS old,
                                   CASE WHEN p.vip_tier_id = %(c)s THEN 'new'
                                        ELSE 'upgrade' END AS direction) h
             WHERE p.ref = %(ref)s AND random() < 0.001
            UNION ALL
            SELECT p.id, %(company)s, %(day)s::date - g,
                   CASE WHEN p.vip_tier_id = %(c)s THEN %(b)s ELSE %(a)s END, p.vip_tier_id,
                   'downgrade', 'rule', 12, 1, 1, NOW() AT TIME ZONE 'UTC',
                   NOW() AT TIME ZONE 'UTC'
              FROM res_partner p, generate_series(1, 30) g
             WHERE p.ref = %(ref)s AND p.vip_tier_id IN (%(b)s, %(c)s) AND random() < 0.0006
        """,
        "night": """
            INSERT INTO vip_tier_history (partner_id, company_id, date, old_tier_id,
                                          new_tier_id, direction, reason, window_months,
                                          create_uid, write_uid, create_date, write_date)
            SELECT p.id, %(company)s, %(day)s,
                   CASE WHEN p.vip_tier_id = %(c)s THEN NULL
                        WHEN p.vip_tier_id = %(b)s THEN %(c)s ELSE %(b)s END,
                   p.vip_tier_id,
                   CASE WHEN p.vip_tier_id = %(c)s THEN 'new' ELSE 'upgrade' END,
                   'rule', 12, 1, 1, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
              FROM res_partner p
             WHERE p.ref = %(ref)s AND random() < 0.0025 * %(scale)s
        """,
        "floor": """
            SELECT br.id, h.partner_id, 'tier:' || h.id, h.date
              FROM br JOIN vip_tier_history h ON h.company_id = br.company_id
             WHERE br.trigger_type = 'tier_up' AND h.direction IN ('new', 'upgrade')
               AND h.date >= %(lookback)s AND h.date <= %(day)s
        """,
    },
    "tier_down": {
        "background": None,  # see tier_up
        "night": """
            INSERT INTO vip_tier_history (partner_id, company_id, date, old_tier_id,
                                          new_tier_id, direction, reason, window_months,
                                          create_uid, write_uid, create_date, write_date)
            SELECT p.id, %(company)s, %(day)s,
                   CASE WHEN p.vip_tier_id = %(c)s THEN %(b)s ELSE %(a)s END, p.vip_tier_id,
                   'downgrade', 'rule', 12, 1, 1, NOW() AT TIME ZONE 'UTC',
                   NOW() AT TIME ZONE 'UTC'
              FROM res_partner p
             WHERE p.ref = %(ref)s AND p.vip_tier_id IN (%(b)s, %(c)s)
               AND random() < 0.002 * %(scale)s
        """,
        "floor": """
            SELECT br.id, h.partner_id, 'tier:' || h.id, h.date
              FROM br JOIN vip_tier_history h ON h.company_id = br.company_id
             WHERE br.trigger_type = 'tier_down' AND h.direction = 'downgrade'
               AND h.date >= %(lookback)s AND h.date <= %(day)s
        """,
    },
}


def floor_query(trigger_types):
    """One statement: the (rule, customer) pairs that get a moment on ``day``.

    A rule's candidates (the trigger contract), kept when the customer is active, of the
    rule's company, VIP and of one of its tiers (any tier when it has none), the occasion not
    yet recorded for that rule and customer, and no moment of that rule for that customer
    within its cool-down (``date > day - cooldown``)."""
    candidates = "\n UNION ALL\n".join(TRIGGERS[t]["floor"] for t in trigger_types)
    return f"""
        WITH br AS (
            SELECT r.id, r.trigger_type, r.company_id, r.cooldown_days, r.window_days,
                   r.threshold_percent, r.interval_days,
                   ARRAY(SELECT rel.vip_tier_id FROM vip_moment_rule_vip_tier_rel rel
                          WHERE rel.vip_moment_rule_id = r.id) AS tiers
              FROM vip_moment_rule r
             WHERE r.active AND r.id = ANY(%(rules)s)
        ), candidate (rule_id, partner_id, okey, odate) AS (
            {candidates}
        )
        SELECT DISTINCT c.rule_id, c.partner_id
          FROM candidate c
          JOIN br ON br.id = c.rule_id
          JOIN res_partner p ON p.id = c.partner_id
         WHERE p.active AND p.vip_company_id = br.company_id AND p.vip_tier_id IS NOT NULL
           AND (br.tiers = '{{}}' OR p.vip_tier_id = ANY(br.tiers))
           AND NOT EXISTS (SELECT 1 FROM vip_moment_occurrence o
                            WHERE o.rule_id = c.rule_id AND o.partner_id = c.partner_id
                              AND (o.occasion_key = c.okey
                                   OR o.date > %(day)s::date - br.cooldown_days))
    """


def record_past_nights(cr, trigger_types, params):
    """The occasions of the state before the measured night, recorded as processed moments
    of past nights (our own table), dated when they came (for the cool-downs)."""
    candidates = "\n UNION ALL\n".join(TRIGGERS[t]["floor"] for t in trigger_types)
    cr.execute(f"""
        WITH br AS (
            SELECT r.id, r.trigger_type, r.trigger_kind, r.company_id, r.window_days,
                   r.threshold_percent, r.interval_days,
                   ARRAY(SELECT rel.vip_tier_id FROM vip_moment_rule_vip_tier_rel rel
                          WHERE rel.vip_moment_rule_id = r.id) AS tiers
              FROM vip_moment_rule r WHERE r.id = ANY(%(rules)s)
        ), candidate (rule_id, partner_id, okey, odate) AS (
            {candidates}
        )
        INSERT INTO vip_moment_occurrence (
            rule_id, partner_id, company_id, trigger_type, trigger_kind, tier_id, occasion_key,
            occasion_date, date, date_deadline, state, board_state, completion, date_done,
            mail_sent, sms_sent, create_uid, write_uid, create_date, write_date)
        SELECT c.rule_id, c.partner_id, br.company_id, br.trigger_type, br.trigger_kind,
               p.vip_tier_id, c.okey, c.odate, d.date, d.date + 3, 'done', 'done', 100,
               d.date + 1, false, false, 1, 1, NOW() AT TIME ZONE 'UTC',
               NOW() AT TIME ZONE 'UTC'
          FROM candidate c
          JOIN br ON br.id = c.rule_id
          JOIN res_partner p ON p.id = c.partner_id
          CROSS JOIN LATERAL (
              SELECT CASE WHEN c.odate IS NULL OR c.odate >= %(day)s
                          THEN %(day)s::date - 1 - c.partner_id %% 20
                          ELSE GREATEST(c.odate, %(day)s::date - 400) END AS date) d
         WHERE p.active AND p.vip_company_id = br.company_id AND p.vip_tier_id IS NOT NULL
           AND (br.tiers = '{{}}' OR p.vip_tier_id = ANY(br.tiers))
        ON CONFLICT DO NOTHING
    """, params)
    return cr.rowcount


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def available_triggers(env):
    engine = env["vip.moment.engine"]
    return [t for t in TRIGGER_PREFERENCE
            if t in TRIGGERS and engine._has_trigger(t)][:MAX_TRIGGERS]


def ensure_rules(env, company_id, tiers, trigger_types):
    """The bench's twenty rules (ORM); every other rule archived (a built-in cadence rule
    would give every customer a task)."""
    from odoo import Command  # noqa: PLC0415

    Rule = env["vip.moment.rule"].with_context(active_test=False)
    Rule.search([("name", "not like", RULE_PREFIX + "%")]).write({"active": False})
    Rule.search([("name", "like", RULE_PREFIX + "%")]).unlink()
    rules = Rule
    per_trigger = RULES // len(trigger_types)
    for n, trigger in enumerate(trigger_types):
        shapes = RULE_SHAPES[:per_trigger + (n < RULES % len(trigger_types))]
        for label, codes, cycle, cooldown in shapes:
            rules |= Rule.create({
                "name": f"{RULE_PREFIX}{trigger} {label}",
                "company_id": company_id,
                "trigger_type": trigger,
                "tier_ids": [Command.set([tiers[code] for code in codes])],
                "cycle": "daily" if trigger in SCHEDULED else cycle,
                "lead_days": 0,
                "interval_days": CADENCE_DAYS,
                "cooldown_days": cooldown,
                "deadline_days": 3,
                "create_activity": True,
                "assign_to": "account_manager",
            })
    env.flush_all()
    return rules.ids


def run_step(cr, setup, trigger, step, params):
    """One data step of a trigger: SQL on our own columns, or posted moves (the bench's
    generated invoices, as tier_recompute.py writes them)."""
    query = TRIGGERS[trigger][step]
    if not query:
        return
    if TRIGGERS[trigger].get("moves"):
        prefix = f"VKM{step[0].upper()}{params['day']:%Y%m%d}/"
        count = tier_recompute.insert_moves(cr, setup, query, prefix, REF, params)
        bench.log(f"    {trigger} {step}: {count:,} posted moves")
    else:
        cr.execute(query, params)


def generate(env, options, day):
    cr = env.cr
    setup = tier_recompute.ensure_setup(env)
    company_id = setup["company_id"]
    tiers = dict(env["vip.tier"].search([("company_id", "=", company_id)]).mapped(
        lambda t: (t.code, t.id)))
    managers = program_kpis.ensure_managers(env, company_id)
    triggers = available_triggers(env)
    rules = ensure_rules(env, company_id, tiers, triggers)
    cr.execute("SELECT setseed(%s)", [SEED])
    t0 = time.perf_counter()
    bounds, shares = [], 0.0
    for _code, share in TIER_SHARES:
        shares += share
        bounds.append(shares)
    cr.execute("""
        INSERT INTO res_partner (id, commercial_partner_id, name, complete_name, type, active,
                                 is_company, lang, customer_rank, supplier_rank, autopost_bills,
                                 partner_share, ref, color, vip_company_id, vip_tier_id,
                                 vip_tier_since, vip_account_manager_id, create_uid, write_uid,
                                 create_date, write_date)
        SELECT s.id, s.id, 'Bench Moment Customer ' || s.g, 'Bench Moment Customer ' || s.g,
               'contact', true, false, 'en_US', 1, 0, 'ask', true, %(ref)s, 0, %(company)s,
               CASE WHEN s.r < %(ba)s THEN %(a)s WHEN s.r < %(bb)s THEN %(b)s ELSE %(c)s END,
               %(day)s::date - 400, (%(managers)s::int[])[1 + s.g %% %(n_managers)s], 1, 1,
               NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
          FROM (SELECT g, nextval('res_partner_id_seq') AS id, random() AS r
                  FROM generate_series(1, %(n)s) g) s
    """, {"n": options.customers, "ref": REF, "company": company_id, "ba": bounds[0],
          "bb": bounds[1], "a": tiers["A"], "b": tiers["B"], "c": tiers["C"], "day": day,
          "managers": managers, "n_managers": len(managers)})
    cr.execute("SELECT MIN(id), MAX(id), COUNT(*) FROM res_partner WHERE ref = %s", [REF])
    pmin, pmax, count = cr.fetchone()
    if count != options.customers:
        raise bench.BenchError(f"expected {options.customers} bench customers, found {count}")
    bench.log(f"{count:,} customers in {time.perf_counter() - t0:.0f} s")
    params = {"day": day, "ref": REF, "company": company_id, "a": tiers["A"], "b": tiers["B"],
              "c": tiers["C"], "scale": options.hit_share / 0.02, "rules": rules,
              "lookback": day - datetime.timedelta(days=LOOKBACK_DAYS), "month": day.month,
              "dom": day.day, "cadence": CADENCE_DAYS}
    t0 = time.perf_counter()
    for trigger in triggers:
        run_step(cr, setup, trigger, "background", params)
    if "tier_down" in triggers and "tier_up" not in triggers:
        cr.execute(TRIGGERS["tier_up"]["background"], params)
    cr.execute("ANALYZE res_partner")
    cr.execute("ANALYZE vip_tier_history")
    past = record_past_nights(cr, triggers, params)
    bench.log(f"state before the night and {past:,} moments of past nights in "
              f"{time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    for trigger in triggers:
        run_step(cr, setup, trigger, "night", params)
    cr.execute("SELECT COUNT(*) FROM vip_moment_occurrence WHERE rule_id = ANY(%s)", [rules])
    bench.log(f"the night's events in {time.perf_counter() - t0:.0f} s")
    return {"version": DATA_VERSION, "customers": count, "hit_share": options.hit_share,
            "triggers": triggers, "rules": rules, "day": day.isoformat(), "company_id": company_id,
            "partner_min": pmin, "partner_max": pmax, "past_moments": past,
            "managers": len(managers)}


def prepare_data(odoo, options):
    with bench.environment(odoo, options.db) as env:
        marker = bench.read_marker(env.cr, BENCH)
        wanted = {"version": DATA_VERSION, "customers": options.customers,
                  "hit_share": options.hit_share, "triggers": available_triggers(env)}
        if marker:
            have = {key: marker.get(key) for key in wanted}
            if have != wanted:
                raise bench.BenchError(f"{options.db} holds bench data for {have}, not {wanted}: "
                                       "pass --rebuild to regenerate (or use another --db)")
            bench.log(f"reusing the data of {options.db} ({marker['customers']:,} customers, "
                      f"{len(marker['rules'])} rules, {marker['past_moments']:,} past moments, "
                      f"bench night {marker['day']})")
            return marker
        bench.log(f"generating {options.customers:,} customers, the rules and the moments")
        marker = generate(env, options, datetime.date.today())
        bench.write_marker(env.cr, BENCH, marker)
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr._cnx.autocommit = True
        for table in ("res_partner", "vip_tier_history", "vip_moment_occurrence"):
            cr.execute(f"VACUUM ANALYZE {table}")
    return marker


def reset_night(odoo, options, marker):
    """Forget the measured night's moments and their tasks (the bench's own cleanup)."""
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        params = {"day": marker["day"], "rules": marker["rules"]}
        cr.execute("""
            DELETE FROM mail_activity WHERE id IN (
                SELECT activity_id FROM vip_moment_occurrence
                 WHERE date >= %(day)s AND rule_id = ANY(%(rules)s))
        """, params)
        activities = cr.rowcount
        cr.execute("DELETE FROM vip_moment_occurrence WHERE date >= %(day)s "
                   "AND rule_id = ANY(%(rules)s)", params)
        moments = cr.rowcount
    if moments:
        with odoo.sql_db.db_connect(options.db).cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute("VACUUM ANALYZE vip_moment_occurrence")
            cr.execute("VACUUM ANALYZE mail_activity")
        bench.log(f"the night's results of an earlier run reset ({moments:,} moments, "
                  f"{activities:,} tasks)")


# ---------------------------------------------------------------------------
# (a) the engine
# ---------------------------------------------------------------------------
PHASES = [
    # (model, method, label)
    ("vip.moment.engine", "_select", "selection"),
    ("vip.moment.engine", "_select_with_total", "selection"),
    ("vip.moment.engine", "_pending", "counting what remains"),
    ("vip.moment.occurrence", "_refresh_board_states", "board states"),
    ("vip.moment.engine", "_flush_sources", "flush"),
    ("vip.moment.engine", "_fire", "_fire"),
    ("vip.moment.engine", "_get_assignees", "assignees"),
    ("vip.moment.engine", "_prepare_activity_vals", "task values"),
    ("mail.activity", "create", "mail.activity.create"),
    ("vip.moment.occurrence", "create", "occurrence create"),
]


def _instrument(env, timings):
    def timed(name, func):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    def by_trigger(func):
        def wrapper(self, rule, *args, **kwargs):
            t0 = time.perf_counter()
            try:
                return func(self, rule, *args, **kwargs)
            finally:
                key = f"selection: {rule.trigger_type}"
                timings[key] = timings.get(key, 0.0) + time.perf_counter() - t0
        return wrapper

    for model, method, label in PHASES:
        cls = type(env[model])
        if hasattr(cls, method):
            func = getattr(cls, method)
            if label == "selection":
                func = by_trigger(func)
            setattr(cls, method, timed(label, func))
    env.cr.commit = timed("commit", env.cr.commit)


def cron_night(env, day, batch_size):
    """The nightly cron as Odoo's runner calls it: again while it reports moments remaining,
    a commit after each call. ``today`` is ``day``."""
    from unittest.mock import patch  # noqa: PLC0415 (bench only)

    from odoo import fields  # noqa: PLC0415 (imported once Odoo is started)

    engine = env["vip.moment.engine"]
    totals = {"calls": 0, "created": 0}
    progress = {}

    def notify(self, *, done, remaining, deactivate=False):
        progress.update(done=done, remaining=remaining)

    kwargs = {"batch_size": batch_size} if batch_size else {}
    with patch.object(type(env["ir.cron"]), "_notify_progress", notify), \
            patch.object(fields.Date, "context_today", lambda *args, **kw: day):
        while True:
            progress.clear()
            engine._cron_run_key_moments(**kwargs)
            totals["calls"] += 1
            totals["created"] += progress.get("done", 0)
            env.cr.commit()
            if not progress.get("remaining"):
                break
    return totals


def engine_run(odoo, options, marker, trace=False, profile_to=None):
    day = datetime.date.fromisoformat(marker["day"])

    def child():
        with bench.environment(odoo, options.db) as env:
            timings = {}
            _instrument(env, timings)
            result, stats = bench.measure(lambda: cron_night(env, day, options.batch_size),
                                          trace=trace, profile_to=profile_to)
            stats.update(result, phases=timings, rss_peak=bench.maxrss_bytes())
            return stats

    return bench.run_isolated(odoo, child)


def engine_results(odoo, options, marker):
    """The night's (rule, customer) pairs the engine recorded, and its tasks."""
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        params = {"day": marker["day"], "rules": marker["rules"]}
        cr.execute("""
            SELECT rule_id, partner_id FROM vip_moment_occurrence
             WHERE date = %(day)s AND rule_id = ANY(%(rules)s)
        """, params)
        pairs = {tuple(row) for row in cr.fetchall()}
        cr.execute("""
            SELECT COUNT(o.id), COUNT(a.id), COUNT(DISTINCT o.partner_id),
                   COUNT(DISTINCT a.user_id)
              FROM vip_moment_occurrence o
              LEFT JOIN mail_activity a ON a.id = o.activity_id
                   AND a.res_model = 'res.partner' AND a.res_id = o.partner_id
             WHERE o.date = %(day)s AND o.rule_id = ANY(%(rules)s)
        """, params)
        moments, tasks, customers, assignees = cr.fetchone()
        cr.execute("""
            SELECT r.trigger_type, COUNT(*) FROM vip_moment_occurrence o
              JOIN vip_moment_rule r ON r.id = o.rule_id
             WHERE o.date = %(day)s AND o.rule_id = ANY(%(rules)s)
             GROUP BY 1 ORDER BY 1
        """, params)
        by_trigger = cr.fetchall()
    return {"pairs": pairs, "moments": moments, "tasks": tasks, "customers": customers,
            "assignees": assignees, "by_trigger": by_trigger}


# ---------------------------------------------------------------------------
# (b) the floor
# ---------------------------------------------------------------------------
def floor_run(odoo, options, marker, repeat=3):
    day = datetime.date.fromisoformat(marker["day"])
    params = {"day": day, "rules": marker["rules"], "month": day.month, "dom": day.day,
              "lookback": day - datetime.timedelta(days=LOOKBACK_DAYS)}
    query = floor_query(marker["triggers"])
    best, pairs = None, set()
    with bench.environment(odoo, options.db) as env:
        for _ in range(repeat):
            t0 = time.perf_counter()
            env.cr.execute(query, params)
            rows = env.cr.fetchall()
            elapsed = time.perf_counter() - t0
            best = elapsed if best is None else min(best, elapsed)
        pairs = {tuple(row) for row in rows}
    return {"seconds": best, "pairs": pairs}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
def main(argv=None):
    options = bench.parse_args(build_parser(), argv)
    if options.small:
        options.customers = SMALL_CUSTOMERS
    if options.customers < 100:
        raise bench.BenchError("--customers must be >= 100")
    if not 0 < options.hit_share <= 0.2:
        raise bench.BenchError("--hit-share must be in ]0, 0.2]")
    if options.batch_size is not None and options.batch_size < 1:
        raise bench.BenchError("--batch-size must be >= 1")
    odoo = bench.start_odoo(options)
    started = time.perf_counter()
    bench.prepare_database(odoo, options, MODULES)
    marker = prepare_data(odoo, options)
    reset_night(odoo, options, marker)

    bench.log("(b) floor: one raw query, best of 3")
    floor = floor_run(odoo, options, marker)
    bench.log(f"    {len(floor['pairs']):,} (rule, customer) pairs in {floor['seconds']:.2f} s")

    runs = []
    kinds = ([] if options.no_trace else ["traced"]) + ["timed"]
    kinds += ["profiled"] if options.profile else []
    for kind in kinds:
        reset_night(odoo, options, marker)
        bench.log(f"(a) engine, night {marker['day']} ({kind})")
        profile_to = None
        if kind == "profiled":
            bench.DATA_DIR.mkdir(parents=True, exist_ok=True)
            profile_to = str(bench.DATA_DIR / f"{BENCH}.prof")
        stats = engine_run(odoo, options, marker, trace=kind == "traced", profile_to=profile_to)
        stats["kind"] = kind
        if kind == "timed":
            stats["results"] = engine_results(odoo, options, marker)
        runs.append(stats)
        bench.log(f"    {stats['created']:,} moments in {stats['calls']} cron calls, "
                  f"{stats['seconds']:.1f} s")
    report(options, marker, floor, runs, time.perf_counter() - started)


def report(options, marker, floor, runs, elapsed):
    timed = next(run for run in runs if run["kind"] == "timed")
    traced = next((run for run in runs if run["kind"] == "traced"), {})
    results = timed["results"]
    print()
    print(f"key_moments: {marker['customers']:,} customers, {len(marker['rules'])} rules "
          f"({', '.join(marker['triggers'])}), {marker['past_moments']:,} moments "
          f"of past nights, night {marker['day']}, db {options.db}")
    print(f"the night: {results['customers']:,} customers "
          f"({100 * results['customers'] / marker['customers']:.2f}%) get "
          f"{results['moments']:,} moments, {results['tasks']:,} tasks for "
          f"{results['assignees']} account managers; by trigger: "
          + ", ".join(f"{t} {n:,}" for t, n in results["by_trigger"]))
    rows = []
    for run in runs:
        label = {"traced": "(a) engine: cron until done (tracemalloc)",
                 "timed": "(a) engine: cron until done", "profiled": "(a) engine (cProfile)"}
        rows.append([label[run["kind"]], f"{run['created']:,}", str(run["calls"]),
                     bench.fmt_seconds(run["seconds"]), bench.fmt_bytes(run.get("py_peak")),
                     bench.fmt_bytes(run["maxrss_delta"]), bench.fmt_bytes(run["rss_peak"])])
    rows.append(["(b) floor: one raw query, best of 3", f"{len(floor['pairs']):,}", "-",
                 bench.fmt_seconds(floor["seconds"]), "-", "-", "-"])
    print()
    bench.print_table(["measure", "moments", "cron calls", "time", "py peak", "RSS delta",
                       "RSS peak"], rows)
    phases = timed.get("phases") or {}
    if phases:
        fire = phases.get("_fire", 0.0)
        inner = sum(phases.get(k, 0.0) for k in ("assignees", "task values",
                                                 "mail.activity.create", "occurrence create"))
        # the flush also runs inside the counting: "other" holds the rest of it
        outer = sum(phases.get(k, 0.0) for k in ("selection", "counting what remains",
                                                 "board states", "_fire", "commit"))
        print("where the time of the timed night goes: " + ", ".join(
            f"{label} {phases.get(label, 0.0):.2f} s" for label in (
                "selection", "counting what remains", "board states", "flush")) +
            f", _fire {fire:.2f} s (assignees {phases.get('assignees', 0.0):.2f} s, "
            f"task values {phases.get('task values', 0.0):.2f} s, "
            f"mail.activity.create {phases.get('mail.activity.create', 0.0):.2f} s, "
            f"occurrence create {phases.get('occurrence create', 0.0):.2f} s, "
            f"other {fire - inner:.2f} s), commits {phases.get('commit', 0.0):.2f} s, "
            f"other {timed['seconds'] - outer:.2f} s")
        split = sorted(((k.split(": ", 1)[1], v) for k, v in phases.items()
                        if k.startswith("selection: ")), key=lambda kv: -kv[1])
        if split:
            print("selection by trigger type (every rule, every cron call): " + ", ".join(
                f"{trigger} {seconds:.2f} s" for trigger, seconds in split))
    profiled = next((run for run in runs if run.get("profile")), None)
    if profiled:
        print()
        print("cProfile of the profiled night (cumulative, top 40; full profile: "
              f"{bench.DATA_DIR / (BENCH + '.prof')}):")
        print(profiled["profile"])
    mine, theirs = results["pairs"], floor["pairs"]
    only_engine, only_floor = sorted(mine - theirs), sorted(theirs - mine)
    ratio = timed["seconds"] / floor["seconds"] if floor["seconds"] else float("inf")
    memory = max(traced.get("py_peak") or 0, timed["maxrss_delta"])
    memory_how = ("max of the traced night's tracemalloc peak and the RSS growth of the timed "
                  "night" if traced else "RSS growth of the timed night (--no-trace)")
    print()
    bench.print_targets([
        (f"(a)/(b) <= {TARGET_RATIO:g}",
         f"{ratio:.2f} ({timed['seconds']:.2f} s / {floor['seconds']:.2f} s)",
         ratio <= TARGET_RATIO),
        ("engine = floor: the night's (rule, customer) pairs",
         f"{len(theirs):,} floor pairs, {len(mine):,} engine pairs, "
         f"{len(only_engine)} only in the engine {only_engine[:3]}, "
         f"{len(only_floor)} only in the floor {only_floor[:3]}",
         not only_engine and not only_floor and bool(theirs)),
        ("every moment has its task (mail.activity.create)",
         f"{results['tasks']:,} tasks for {results['moments']:,} moments",
         results["tasks"] == results["moments"] and results["moments"] > 0),
        ("peak memory of an engine run < 1 GiB",
         f"{bench.fmt_bytes(memory)} ({memory_how})", memory < TARGET_MEMORY),
    ])
    print(f"(whole bench run: {elapsed:.0f} s)")
    bench.ratio_line(BENCH, ratio)


if __name__ == "__main__":
    bench.main_wrapper(main)
