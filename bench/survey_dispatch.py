"""Benchmark: invitations of a satisfaction campaign over many customers (vip_survey).

    python bench/survey_dispatch.py --odoo-src PATH --db NAME [--customers 100000]

(a) the campaign's own dispatch, batch by batch as the cron does it
    (``_dispatch_next_batch``: pick the batch, ``survey.user_input.create(vals_list)``,
    the exact count of customers left that the cron reports; one commit and a cleared
    cache per batch, so memory stays bounded), mail sending excluded; its time is split
    into the answers' creation through survey's API, the count of customers left and
    the rest (picking the batch, run bookkeeping);
(b) the floor: one raw SQL statement inserting the same rows (survey answers with
    their tokens and campaign link, and the questions each one shows);
(c) for scale, not part of (a): mailing one batch with the campaign's template, which
    the cron does after creating each batch.

It prints a table, the targets with PASS/FAIL and, last, ``RATIO survey_dispatch <(a)/(b)>``.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as bench  # noqa: E402

BENCH = "survey_dispatch"
MODULES = ["vip_survey"]
DATA_VERSION = 1
TARGET_RATIO = 3.0
TARGET_RSS = 512 * 1024**2


def build_parser():
    parser = bench.new_parser(__doc__.splitlines()[0])
    bench.add_common_args(parser)
    parser.add_argument("--customers", type=int, default=100000, help="customers to invite")
    parser.add_argument("--batch-size", type=int, default=1000, help="invitations per batch")
    return parser


def ensure_setup(env):
    """A tier, an NPS survey and a campaign of the bench; returns their ids."""
    company = env.ref("base.main_company")
    Tier = env["vip.tier"].with_context(active_test=False)
    tier = Tier.search([("code", "=", "SBENCH"), ("company_id", "=", company.id)], limit=1)
    if not tier:
        tier = Tier.create(
            {
                "name": "Survey Bench",
                "code": "SBENCH",
                "level": 97,
                "company_id": company.id,
                "min_spend": 0,
                "min_purchase_count": 1,
            }
        )
    survey = env["survey.survey"].search([("title", "=", "Survey Bench NPS")], limit=1)
    if not survey:
        survey = env["survey.survey"].create(
            {
                "title": "Survey Bench NPS",
                "access_mode": "token",
                "question_and_page_ids": [
                    (
                        0,
                        0,
                        {
                            "title": "Recommend us?",
                            "question_type": "scale",
                            "scale_min": 0,
                            "scale_max": 10,
                        },
                    )
                ],
            }
        )
    Campaign = env["vip.survey.campaign"].with_context(active_test=False)
    campaign = Campaign.search([("name", "=", "Survey Bench")], limit=1)
    if not campaign:
        campaign = Campaign.create(
            {
                "name": "Survey Bench",
                "company_id": company.id,
                "survey_id": survey.id,
                "nps_question_id": survey.question_ids[:1].id,
                "satisfaction_source": "nps",
                "tier_ids": [(6, 0, tier.ids)],
                "skip_days": 0,
                "answer_days": 30,
            }
        )
    env.flush_all()
    return {
        "company_id": company.id,
        "tier_id": tier.id,
        "survey_id": survey.id,
        "campaign_id": campaign.id,
    }


def prepare_data(odoo, options):
    with bench.environment(odoo, options.db) as env:
        cr = env.cr
        ids = ensure_setup(env)
        marker = bench.read_marker(cr, BENCH)
        wanted = {"version": DATA_VERSION, "customers": options.customers}
        if marker and {k: marker.get(k) for k in wanted} == wanted:
            bench.log(f"reusing {options.customers:,} bench customers of {options.db}")
            return {**marker, **ids}
        bench.log(f"generating {options.customers:,} customers")
        cr.execute("DELETE FROM survey_user_input WHERE vip_campaign_id = %s", [ids["campaign_id"]])
        cr.execute(
            "UPDATE res_partner SET vip_tier_id = NULL WHERE vip_tier_id = %s", [ids["tier_id"]]
        )
        cr.execute(
            """
            INSERT INTO res_partner (name, complete_name, email, email_normalized, active,
                                     is_company, type,
                                     vip_tier_id, vip_company_id, autopost_bills,
                                     create_uid, write_uid, create_date, write_date)
            SELECT 'Survey Bench ' || n, 'Survey Bench ' || n,
                   'survey.bench.' || n || '@example.com',
                   'survey.bench.' || n || '@example.com', true, true, 'contact',
                   %(tier)s, %(company)s, 'ask', 1, 1,
                   NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
              FROM generate_series(1, %(n)s) n
        """,
            {"tier": ids["tier_id"], "company": ids["company_id"], "n": options.customers},
        )
        cr.execute(
            "UPDATE res_partner SET commercial_partner_id = id "
            "WHERE vip_tier_id = %s AND commercial_partner_id IS NULL",
            [ids["tier_id"]],
        )
        marker = wanted
        bench.write_marker(cr, BENCH, marker)
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE res_partner")
    return {**marker, **ids}


def reset(odoo, options, marker):
    """Forget the invitations of earlier runs and make the campaign due today."""
    with bench.environment(odoo, options.db) as env:
        env.cr.execute(
            "DELETE FROM survey_user_input WHERE vip_campaign_id = %s", [marker["campaign_id"]]
        )
        # databases generated before the customers had their normalized e-mail: the
        # mailing found no partner for their address and created one per invitation,
        # who was then a customer to invite too (the campaign never ended)
        env.cr.execute(
            "UPDATE res_partner SET email_normalized = email "
            "WHERE email LIKE 'survey.bench.%%' AND email_normalized IS NULL "
            "AND name LIKE 'Survey Bench %%'"
        )
        env.cr.execute(
            "UPDATE res_partner SET active = false "
            "WHERE email LIKE 'survey.bench.%%' AND name = email AND active"
        )
        campaign = env["vip.survey.campaign"].browse(marker["campaign_id"])
        campaign.write(
            {
                "state": "running",
                "run_in_progress": False,
                "run_count": 0,
                "next_run_date": env.cr.now().date(),
                "recurrence": "recurring",
            }
        )
    with odoo.sql_db.db_connect(options.db).cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE survey_user_input")


def dispatch_run(odoo, options, marker):
    """(a) The campaign's dispatch, batch by batch like the cron (mails excluded)."""

    def child():
        with bench.environment(odoo, options.db) as env:
            campaign = env["vip.survey.campaign"].browse(marker["campaign_id"])
            # time spent in two steps of the batch (this child process only)
            Campaign = type(campaign)
            split = {"_create_invitations": 0.0, "_count_pending_partners": 0.0}

            def timed(name):
                method = getattr(Campaign, name)

                def wrapper(self, *args, **kwargs):
                    t0 = time.perf_counter()
                    try:
                        return method(self, *args, **kwargs)
                    finally:
                        split[name] += time.perf_counter() - t0

                setattr(Campaign, name, wrapper)

            for name in split:
                timed(name)

            def run():
                created = batches = 0
                while True:
                    invitations, remaining = campaign._dispatch_next_batch(
                        batch_size=options.batch_size, send=False
                    )
                    if not invitations:
                        break
                    created += len(invitations)
                    batches += 1
                    env.cr.commit()
                    env.invalidate_all()
                    env.transaction.clear()
                return {"created": created, "batches": batches, "last_remaining": remaining}

            result, stats = bench.measure(run)
            return {**result, **stats, "split": split}

    return bench.run_isolated(odoo, child)


def mail_run(odoo, options, marker):
    """(c) For scale, not in (a): mailing one batch of the invitations (a) created with
    the campaign's template, as the cron does after creating them (rolled back)."""

    def child():
        with bench.environment(odoo, options.db) as env:
            campaign = env["vip.survey.campaign"].browse(marker["campaign_id"])
            invitations = env["survey.user_input"].search(
                [("vip_campaign_id", "=", campaign.id)], limit=options.batch_size, order="id"
            )

            def run():
                campaign._send_invitations(invitations)
                env.flush_all()
                return {"mailed": len(invitations)}

            result, stats = bench.measure(run)
            env.cr.rollback()
            return {**result, **stats}

    return bench.run_isolated(odoo, child)


# The same rows as the dispatch: the invitations (same columns) and the questions each
# one shows (survey_question_survey_user_input_rel, as survey.user_input.create fills it).
FLOOR_INSERT = """
WITH invitation AS (
    INSERT INTO survey_user_input (survey_id, partner_id, email, nickname, access_token,
                                   invite_token, state, start_datetime, deadline, test_entry,
                                   is_session_answer, scoring_percentage, scoring_total,
                                   scoring_success, survey_first_submitted, vip_campaign_id,
                                   vip_campaign_run, create_uid, write_uid, create_date,
                                   write_date)
    SELECT %(survey)s, p.id, p.email, p.name, gen_random_uuid()::text, NULL, 'new', NULL,
           NOW() AT TIME ZONE 'UTC' + INTERVAL '30 days', false, false, 0, 0, false, false,
           %(campaign)s, 99, 1, 1, NOW() AT TIME ZONE 'UTC', NOW() AT TIME ZONE 'UTC'
      FROM res_partner p
     WHERE p.vip_tier_id = %(tier)s AND p.active AND p.email IS NOT NULL
    RETURNING id
), question AS (
    INSERT INTO survey_question_survey_user_input_rel (survey_user_input_id, survey_question_id)
    SELECT i.id, q.id
      FROM invitation i
     CROSS JOIN survey_question q
     WHERE q.survey_id = %(survey)s AND NOT COALESCE(q.is_page, false)
)
SELECT COUNT(*) FROM invitation
"""


def floor_run(odoo, options, marker, repeat=3):
    """(b) One raw INSERT of the same rows, best of ``repeat`` (each rolled back)."""
    best = None
    for _i in range(repeat):
        with odoo.sql_db.db_connect(options.db).cursor() as cr:
            t0 = time.perf_counter()
            cr.execute(
                FLOOR_INSERT,
                {
                    "survey": marker["survey_id"],
                    "tier": marker["tier_id"],
                    "campaign": marker["campaign_id"],
                },
            )
            rows = cr.fetchone()[0]
            seconds = time.perf_counter() - t0
            cr.rollback()
        best = min(best or seconds, seconds)
    return {"seconds": best, "rows": rows}


def main(argv=None):
    options = bench.parse_args(build_parser(), argv)
    if options.customers < 1 or options.batch_size < 1:
        raise bench.BenchError("--customers and --batch-size must be >= 1")
    odoo = bench.start_odoo(options)
    bench.prepare_database(odoo, options, MODULES)
    marker = prepare_data(odoo, options)
    reset(odoo, options, marker)
    bench.log(f"(a) campaign dispatch, batches of {options.batch_size:,}")
    dispatch = dispatch_run(odoo, options, marker)
    bench.log(
        f"    {dispatch['created']:,} invitations in {dispatch['batches']} batches, "
        f"{dispatch['seconds']:.1f} s"
    )
    bench.log("(b) floor: raw SQL insert of the same rows, best of 3")
    floor = floor_run(odoo, options, marker)
    bench.log(f"(c) mailing one batch of {options.batch_size:,} invitations (not in (a))")
    mail = mail_run(odoo, options, marker)
    ratio = dispatch["seconds"] / max(floor["seconds"], 1e-9)
    batch_create = dispatch["split"]["_create_invitations"] / max(dispatch["batches"], 1)
    bench.print_table(
        ["run", "rows", "time", "per 1,000", "peak RSS delta"],
        [
            [
                "(a) campaign dispatch (cron batches)",
                f"{dispatch['created']:,}",
                bench.fmt_seconds(dispatch["seconds"]),
                bench.fmt_seconds(1000 * dispatch["seconds"] / max(dispatch["created"], 1)),
                bench.fmt_bytes(dispatch["maxrss_delta"]),
            ],
            [
                "    of which survey.user_input.create (API)",
                None,
                bench.fmt_seconds(dispatch["split"]["_create_invitations"]),
                None,
                None,
            ],
            [
                "    of which counting the customers left",
                None,
                bench.fmt_seconds(dispatch["split"]["_count_pending_partners"]),
                None,
                None,
            ],
            [
                "(b) raw SQL insert",
                f"{floor['rows']:,}",
                bench.fmt_seconds(floor["seconds"]),
                bench.fmt_seconds(1000 * floor["seconds"] / max(floor["rows"], 1)),
                None,
            ],
        ],
    )
    print(
        f"For scale: mailing one batch of {mail['mailed']:,} invitations takes "
        f"{bench.fmt_seconds(mail['seconds'])} (not in (a)); the answers' creation through "
        f"survey's API is {bench.fmt_seconds(batch_create)} of a batch."
    )
    bench.print_targets(
        [
            (
                "every target customer invited",
                f"{dispatch['created']:,} / {floor['rows']:,}",
                dispatch["created"] == floor["rows"],
            ),
            (
                "nothing reported left after the last batch",
                f"{dispatch['last_remaining']:,}",
                dispatch["last_remaining"] == 0,
            ),
            (
                f"peak RSS delta <= {bench.fmt_bytes(TARGET_RSS)}",
                bench.fmt_bytes(dispatch["maxrss_delta"]),
                dispatch["maxrss_delta"] <= TARGET_RSS,
            ),
            (f"(a)/(b) <= {TARGET_RATIO:g}", f"{ratio:.2f}", ratio <= TARGET_RATIO),
        ]
    )
    bench.ratio_line(BENCH, ratio)


if __name__ == "__main__":
    bench.main_wrapper(main)
