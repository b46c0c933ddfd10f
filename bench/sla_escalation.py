"""Benchmark of the SLA escalation cron and of batch deadlines (vip_service_ticket).

    python bench/sla_escalation.py --odoo-src PATH --db NAME [--tickets 100000]
        [--due 0.05] [--new 10000] [--rebuild] [--profile]

Run it with the Odoo's own Python. It creates the database when missing (see bench/README.md),
generates open tickets across 3 teams with 3 calendars with bulk SQL (reused by the next run;
``--due`` of them long overdue, so every step of their 4-step escalation ladder is due) and
measures, each in a transaction rolled back afterwards:

(a) the escalation cron (``_cron_escalate`` called until no ticket is due: one indexed query
    per batch, steps fired and logged, activities, reassignments, chatter notes);
(b) the floor: raw SQL selecting the same due tickets and doing the same writes (escalation
    log rows, ticket updates, chatter messages, activities, assignment history of the
    reassignments, followers: the notified people and new assignees), best of 2;
(c) deadlines of ``--new`` new tickets in batch (one interval computation per calendar)
    against ``resource.calendar.plan_hours`` per ticket on a sample, per ticket.

It prints a table, the targets with PASS/FAIL and, last, ``RATIO sla_escalation <(a)/(b)>``.
Exit status 0 after the report whatever the target, non-zero on errors.
"""

import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as bench  # noqa: E402

BENCH = "sla_escalation"
MODULES = ["vip_service_ticket"]
DATA_VERSION = 1
TARGET_RATIO = 2.0
PLAN_SAMPLE = 300


def build_parser():
    parser = bench.new_parser(__doc__.split("\n\n")[0])
    bench.add_common_args(parser)
    parser.add_argument("--tickets", type=int, default=100000, help="open tickets")
    parser.add_argument("--due", type=float, default=0.05, help="share of overdue tickets")
    parser.add_argument("--new", type=int, default=10000, help="new tickets for (c)")
    return parser


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def _calendar(env, name, days, hours):
    from odoo import Command  # noqa: PLC0415

    return env["resource.calendar"].create(
        {
            "name": name,
            "tz": "Asia/Shanghai",
            "attendance_ids": [Command.clear()]
            + [
                Command.create(
                    {
                        "name": f"{day}-{start}",
                        "dayofweek": str(day),
                        "hour_from": start,
                        "hour_to": stop,
                        "day_period": period,
                    }
                )
                for day in days
                for start, stop, period in hours
            ],
        }
    )


def setup_config(env):
    """Teams, calendars (one with a public holiday) and the bench SLA with its ladder."""
    from odoo import Command  # noqa: PLC0415

    company = env.ref("base.main_company")
    users = env["res.users"].search([("login", "=like", "vip-bench-agent-%")])
    if len(users) < 12:
        users = env["res.users"].create(
            [
                {
                    "name": f"Bench agent {i}",
                    "login": f"vip-bench-agent-{i}",
                    "groups_id": [
                        Command.link(env.ref("vip_service_ticket.group_vip_service_user").id)
                    ],
                }
                for i in range(12)
            ]
        )
    calendars = [
        _calendar(env, "Bench office", range(5), [(8, 12, "morning"), (13, 17, "afternoon")]),
        _calendar(env, "Bench 7 days", range(7), [(8, 12, "morning"), (12, 20, "afternoon")]),
        _calendar(env, "Bench 24/5", range(5), [(0, 12, "morning"), (12, 24, "afternoon")]),
    ]
    today = datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    env["resource.calendar.leaves"].create(
        {
            "name": "Bench holiday",
            "calendar_id": calendars[0].id,
            "time_type": "leave",
            "date_from": today - timedelta(days=3),
            "date_to": today - timedelta(days=2),
        }
    )
    teams = env["vip.service.team"].create(
        [
            {
                "name": f"Bench team {i}",
                "company_id": company.id,
                "resource_calendar_id": cal.id,
                "leader_id": users[4 * i].id,
                "member_ids": [Command.set(users[4 * i : 4 * i + 4].ids)],
                "assignment_method": "least_open",
            }
            for i, cal in enumerate(calendars)
        ]
    )
    sla = env["vip.service.sla"].create(
        {
            "name": "Bench SLA",
            "company_id": company.id,
            "sequence": 1000,
            "first_response_hours": 4,
            "resolution_hours": 24,
            "warning_percent": 75,
            "escalation_ids": [
                Command.create(
                    {
                        "level": 1,
                        "deadline_type": "first_response",
                        "trigger": "breach",
                        "action": "notify_assignee",
                    }
                ),
                Command.create(
                    {
                        "level": 1,
                        "deadline_type": "resolution",
                        "trigger": "warning",
                        "action": "notify_assignee",
                    }
                ),
                Command.create(
                    {
                        "level": 2,
                        "deadline_type": "resolution",
                        "trigger": "breach",
                        "action": "reassign_leader",
                    }
                ),
                Command.create(
                    {
                        "level": 3,
                        "deadline_type": "resolution",
                        "trigger": "breach_delay",
                        "delay_hours": 4,
                        "action": "notify_managers",
                    }
                ),
            ],
        }
    )
    return company, teams, sla


def insert_tickets(env, company, teams, sla, count, due_share, prefix, now):
    """Tickets with bulk SQL (no deadline yet); ``due_share`` of them 30 days old."""
    cr = env.cr
    stage = env.ref("vip_service_ticket.vip_service_stage_in_progress")
    rng = random.Random(42)
    rows = []
    for n in range(count):
        team = teams[n % len(teams)]
        old = rng.random() < due_share
        start = now - (
            timedelta(days=30, minutes=rng.randint(0, 600))
            if old
            else timedelta(minutes=rng.randint(0, 45))
        )
        rows.append(
            (
                f"{prefix}-{n:07d}",
                f"Bench ticket {n}",
                company.id,
                team.id,
                team.member_ids[n % len(team.member_ids)].id,
                stage.id,
                sla.id,
                start,
            )
        )
    for chunk in range(0, len(rows), 10000):
        part = rows[chunk : chunk + 10000]
        cr.execute(
            "INSERT INTO vip_service_ticket (number, name, company_id, team_id, user_id, "
            "stage_id, sla_id, sla_start_date, priority, channel, active, is_closed, "
            "escalation_level, sla_paused_hours, create_date, write_date, create_uid, write_uid) "
            "SELECT v.number, v.name, v.company_id, v.team_id, v.user_id, v.stage_id, v.sla_id, "
            "v.start, '1', 'phone', TRUE, FALSE, 0, 0, v.start, v.start, 1, 1 "
            "FROM (VALUES "
            + ",".join(["(%s, %s, %s, %s, %s, %s, %s, %s::timestamp)"] * len(part))
            + ") AS v(number, name, company_id, team_id, user_id, stage_id, sla_id, start) "
            "RETURNING id",
            [value for row in part for value in row],
        )
    cr.execute(
        "SELECT id FROM vip_service_ticket WHERE number LIKE %s ORDER BY id", [f"{prefix}-%"]
    )
    return [row[0] for row in cr.fetchall()]


def generate(env, options):
    cr = env.cr
    bench.log("removing the previous bench data")
    cr.execute("DELETE FROM vip_service_ticket WHERE number LIKE 'BENCH-%'")
    cr.execute("DELETE FROM vip_service_sla WHERE name->>'en_US' = 'Bench SLA'")
    cr.execute("DELETE FROM vip_service_team WHERE name->>'en_US' LIKE 'Bench team %%'")
    company, teams, sla = setup_config(env)
    now = datetime.now().replace(microsecond=0)
    bench.log(f"inserting {options.tickets} tickets")
    ids = insert_tickets(env, company, teams, sla, options.tickets, options.due, "BENCH", now)
    env.invalidate_all()
    bench.log("computing their deadlines and escalation schedule (batch engine)")
    Ticket = env["vip.service.ticket"]
    for chunk in range(0, len(ids), 20000):
        Ticket.browse(ids[chunk : chunk + 20000])._sla_compute_deadlines(match=False)
        env.invalidate_all()
    return {
        "version": DATA_VERSION,
        "tickets": options.tickets,
        "due": options.due,
        "sla_id": sla.id,
        "team_ids": teams.ids,
        "company_id": company.id,
    }


# ---------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------
def due_count(cr):
    cr.execute("""SELECT COUNT(*) FROM vip_service_ticket
                   WHERE next_escalation_date <= NOW() AT TIME ZONE 'UTC'
                     AND NOT is_closed AND sla_paused_since IS NULL AND active""")
    return cr.fetchone()[0]


def run_cron(env):
    Ticket = env["vip.service.ticket"]
    calls = 0
    while True:
        env.flush_all()
        if not due_count(env.cr):
            break
        Ticket._cron_escalate()
        calls += 1
        # what the cron runner's commit does first: tracking lines are written by mail's
        # precommit hooks, so a rolled-back run must run them to pay for them
        env.cr.flush()
    env.cr.execute(
        "SELECT COUNT(*) FROM vip_service_ticket_escalation e "
        "JOIN vip_service_ticket t ON t.id = e.ticket_id WHERE t.number LIKE 'BENCH-%'"
    )
    return {"calls": calls, "fired": env.cr.fetchone()[0]}


FLOOR_SQL = """
WITH due AS (
    SELECT t.id, t.company_id, t.user_id, t.team_id, t.priority,
           t.first_response_deadline, t.resolution_deadline, t.resolution_warning_date,
           t.first_response_date
      FROM vip_service_ticket t
     WHERE t.next_escalation_date <= %(now)s AND NOT t.is_closed
       AND t.sla_paused_since IS NULL AND t.active
), fire AS (
    SELECT d.*, s.id AS step_id, s.level, s.action, s.deadline_type
      FROM due d
      JOIN vip_service_ticket dt ON dt.id = d.id
      JOIN vip_service_sla_escalation s ON s.sla_id = dt.sla_id
     WHERE NOT EXISTS (SELECT 1 FROM vip_service_ticket_escalation e
                        WHERE e.ticket_id = d.id AND e.step_id = s.id)
       AND CASE
           WHEN s.deadline_type = 'first_response' THEN
                d.first_response_date IS NULL AND d.first_response_deadline <= %(now)s
           WHEN s.trigger = 'warning' THEN d.resolution_warning_date <= %(now)s
           WHEN s.trigger = 'breach' THEN d.resolution_deadline <= %(now)s
           ELSE d.resolution_deadline + s.delay_hours * INTERVAL '1 hour' <= %(now)s END
), logged AS (
    INSERT INTO vip_service_ticket_escalation
           (ticket_id, step_id, level, action, deadline_type, date, company_id, create_uid,
            write_uid, create_date, write_date)
    SELECT id, step_id, level, action, deadline_type, %(now)s, company_id, 1, 1, %(now)s, %(now)s
      FROM fire
    RETURNING ticket_id
), activities AS (
    INSERT INTO mail_activity (res_model_id, res_model, res_id, activity_type_id, summary,
                               user_id, date_deadline, create_uid, write_uid, create_date,
                               write_date, automated)
    SELECT %(model_id)s, 'vip.service.ticket', f.id, %(type_id)s,
           'SLA escalation level ' || f.level, COALESCE(f.user_id, tm.leader_id), %(today)s,
           1, 1, %(now)s, %(now)s, TRUE
      FROM fire f JOIN vip_service_team tm ON tm.id = f.team_id
    RETURNING id
), messages AS (
    INSERT INTO mail_message (model, res_id, message_type, body, author_id, subtype_id, date,
                              create_uid, write_uid, create_date, write_date)
    SELECT 'vip.service.ticket', f.id, 'notification',
           '<ul>' || string_agg('<li>SLA escalation level ' || f.level || '</li>', '') || '</ul>',
           %(author)s, %(note)s, %(now)s, 1, 1, %(now)s, %(now)s
      FROM fire f GROUP BY f.id
    RETURNING id
), updated AS (
    UPDATE vip_service_ticket t
       SET escalation_level = GREATEST(t.escalation_level, x.level),
           user_id = CASE WHEN x.reassign THEN tm.leader_id ELSE t.user_id END,
           priority = CASE WHEN x.reassign THEN LEAST(t.priority::int + 1, 3)::varchar
                           ELSE t.priority END,
           next_escalation_date = NULL,
           write_date = %(now)s
      FROM (SELECT id, MAX(level) AS level, bool_or(action = 'reassign_leader') AS reassign,
                   MIN(team_id) AS team_id
              FROM fire GROUP BY id) x
      JOIN vip_service_team tm ON tm.id = x.team_id
     WHERE t.id = x.id
    RETURNING t.id
), assigned AS (
    INSERT INTO vip_service_ticket_assignment (ticket_id, date, from_user_id, to_user_id,
                                               author_id, kind, reason, company_id, create_uid,
                                               write_uid, create_date, write_date)
    SELECT x.id, %(now)s, x.user_id, tm.leader_id, 1, 'escalation',
           'SLA breached: escalated to the team leader', x.company_id, 1, 1, %(now)s, %(now)s
      FROM (SELECT id, MIN(user_id) AS user_id, MIN(team_id) AS team_id,
                   MIN(company_id) AS company_id
              FROM fire WHERE action = 'reassign_leader' GROUP BY id) x
      JOIN vip_service_team tm ON tm.id = x.team_id
     WHERE x.user_id IS DISTINCT FROM tm.leader_id
    RETURNING id
), followed AS (
    -- the people notified by an activity and the new assignees follow the tickets
    INSERT INTO mail_followers (res_model, res_id, partner_id)
    SELECT DISTINCT 'vip.service.ticket', f.id, u.partner_id
      FROM fire f JOIN vip_service_team tm ON tm.id = f.team_id
      JOIN res_users u ON u.id = COALESCE(f.user_id, tm.leader_id)
                       OR (f.action = 'reassign_leader' AND u.id = tm.leader_id)
        ON CONFLICT DO NOTHING
    RETURNING id
), follower_subtypes AS (
    INSERT INTO mail_followers_mail_message_subtype_rel (mail_followers_id,
                                                         mail_message_subtype_id)
    SELECT fo.id, s.id
      FROM followed fo
      JOIN mail_message_subtype s
        ON s."default" AND (s.res_model IS NULL OR s.res_model = 'vip.service.ticket')
    RETURNING mail_followers_id
)
SELECT (SELECT COUNT(*) FROM due), (SELECT COUNT(*) FROM logged), (SELECT COUNT(*) FROM updated),
       (SELECT COUNT(*) FROM activities), (SELECT COUNT(*) FROM messages),
       (SELECT COUNT(*) FROM assigned), (SELECT COUNT(*) FROM followed),
       (SELECT COUNT(*) FROM follower_subtypes)
"""


def run_floor(env):
    from odoo import fields  # noqa: PLC0415

    now = fields.Datetime.now()
    env.cr.execute(
        FLOOR_SQL,
        {
            "now": now,
            "today": now.date(),
            "model_id": env["ir.model"]._get_id("vip.service.ticket"),
            "type_id": env.ref("vip_service_ticket.mail_activity_type_sla_escalation").id,
            "author": env.user.partner_id.id,
            "note": env.ref("mail.mt_note").id,
        },
    )
    due, logged, updated, activities, messages, assigned, followed, subtypes = env.cr.fetchone()
    return {
        "due": due,
        "fired": logged,
        "updated": updated,
        "activities": activities,
        "messages": messages,
        "assignments": assigned,
        "followers": followed,
        "follower_subtypes": subtypes,
    }


def run_deadlines(env, meta, count):
    """(c): ``count`` new tickets; batch engine vs plan_hours per ticket on a sample."""
    company = env["res.company"].browse(meta["company_id"])
    teams = env["vip.service.team"].browse(meta["team_ids"])
    sla = env["vip.service.sla"].browse(meta["sla_id"])
    now = datetime.now().replace(microsecond=0)
    rng = random.Random(7)
    ids = insert_tickets(env, company, teams, sla, count, 0.0, "BENCHNEW", now)
    env.cr.execute(
        "UPDATE vip_service_ticket SET sla_start_date = sla_start_date - "
        "(random() * 20)::int * INTERVAL '1 day' WHERE number LIKE 'BENCHNEW-%'"
    )
    env.invalidate_all()
    tickets = env["vip.service.ticket"].browse(ids)
    tickets.mapped("sla_start_date")  # read the tickets first: time the engine only
    tickets.team_id.resource_calendar_id.mapped("name")
    t0 = time.perf_counter()
    tickets._sla_compute_deadlines(match=True)
    env.flush_all()
    batch = time.perf_counter() - t0
    sample = env["vip.service.ticket"].browse(rng.sample(ids, min(PLAN_SAMPLE, len(ids))))
    sample.mapped("resolution_deadline")
    queries0 = env.cr.sql_log_count
    t0 = time.perf_counter()
    mismatches = 0
    for ticket in sample:
        calendar = ticket.team_id.resource_calendar_id
        deadline = calendar.plan_hours(
            ticket.sla_id.resolution_hours, ticket.sla_start_date, compute_leaves=True
        )
        mismatches += deadline != ticket.resolution_deadline
    per_ticket_plan = (time.perf_counter() - t0) / len(sample)
    return {
        "count": count,
        "batch_s": batch,
        "batch_us": batch / count * 1e6,
        "plan_us": per_ticket_plan * 1e6,
        "plan_queries": (env.cr.sql_log_count - queries0) / len(sample),
        "mismatches": mismatches,
        "sample": len(sample),
    }


def rolled_back(odoo, db, func, *args):
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            result, stats = bench.measure(lambda: func(env, *args))
        finally:
            cr.rollback()
    return result, stats


def main():
    options = bench.parse_args(build_parser())
    odoo = bench.start_odoo(options)
    created = bench.prepare_database(odoo, options, MODULES)
    with bench.environment(odoo, options.db) as env:
        meta = bench.read_marker(env.cr, BENCH)
        wanted = {"version": DATA_VERSION, "tickets": options.tickets, "due": options.due}
        if created or options.rebuild or any(meta.get(k) != v for k, v in wanted.items()):
            meta = generate(env, options)
            bench.write_marker(env.cr, BENCH, meta)
        due = due_count(env.cr)
    bench.log(f"{options.tickets} open tickets, {due} due for an escalation step")

    cron, cron_stats = rolled_back(odoo, options.db, run_cron)
    floors = [rolled_back(odoo, options.db, run_floor) for _i in range(2)]
    floor, floor_stats = min(floors, key=lambda item: item[1]["seconds"])
    deadlines, _stats = rolled_back(odoo, options.db, run_deadlines, meta, options.new)

    ratio = cron_stats["seconds"] / floor_stats["seconds"]
    bench.print_table(
        ["measure", "tickets", "steps fired", "time", "per ticket"],
        [
            [
                "(a) escalation cron",
                due,
                cron["fired"],
                bench.fmt_seconds(cron_stats["seconds"]),
                f"{cron_stats['seconds'] / max(due, 1) * 1e3:.2f} ms",
            ],
            [
                "(b) raw SQL floor",
                floor["due"],
                floor["fired"],
                bench.fmt_seconds(floor_stats["seconds"]),
                f"{floor_stats['seconds'] / max(floor['due'], 1) * 1e3:.2f} ms",
            ],
            [
                "(c) deadlines, batch",
                deadlines["count"],
                "-",
                bench.fmt_seconds(deadlines["batch_s"]),
                f"{deadlines['batch_us']:.1f} us",
            ],
            [
                f"(c) plan_hours x{deadlines['sample']}",
                deadlines["sample"],
                "-",
                bench.fmt_seconds(deadlines["plan_us"] * deadlines["sample"] / 1e6),
                f"{deadlines['plan_us']:.1f} us, {deadlines['plan_queries']:.1f} queries",
            ],
        ],
    )
    bench.print_targets(
        [
            (
                f"escalation cron at most {TARGET_RATIO}x the raw SQL floor",
                f"{ratio:.2f}x",
                ratio <= TARGET_RATIO,
            ),
            (
                "same steps fired as the floor",
                f"{cron['fired']} vs {floor['fired']}",
                cron["fired"] == floor["fired"],
            ),
            (
                "batch deadlines equal plan_hours on the sample",
                f"{deadlines['mismatches']} mismatches of {deadlines['sample']}",
                deadlines["mismatches"] == 0,
            ),
            (
                "batch deadlines faster than plan_hours per ticket",
                f"{deadlines['batch_us']:.1f} us vs {deadlines['plan_us']:.1f} us",
                deadlines["batch_us"] < deadlines["plan_us"],
            ),
        ]
    )
    bench.ratio_line(BENCH, ratio)


if __name__ == "__main__":
    bench.main_wrapper(main)
