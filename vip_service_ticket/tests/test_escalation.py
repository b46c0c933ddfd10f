from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import MONDAY, VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestEscalation(VipServiceTicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Escalation = cls.env["vip.service.ticket.escalation"]
        cls.activity_type = cls.env.ref("vip_service_ticket.mail_activity_type_sla_escalation")
        with freeze_time(MONDAY.replace(hour=8)):
            cls.ticket = cls.create_ticket(user_id=cls.agent1.id)
        # deadlines: first response Mon 12:00; resolution Wed 17:00, at risk from Wed 11:00;
        # breach + 4 working hours: Thu 12:00

    def run_cron(self, moment):
        with freeze_time(moment):
            self.Ticket._cron_escalate()
        self.ticket.invalidate_recordset()

    def steps(self):
        return (
            self.Escalation.search([("ticket_id", "=", self.ticket.id)])
            .sorted("id")
            .mapped(lambda e: (e.level, e.step_id.deadline_type, e.step_id.trigger))
        )

    def escalation_activities(self):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "vip.service.ticket"),
                ("res_id", "=", self.ticket.id),
                ("activity_type_id", "=", self.activity_type.id),
            ]
        )

    def test_schedule(self):
        self.assertEqual(self.ticket.first_response_deadline, MONDAY.replace(hour=12))
        self.assertEqual(self.ticket.resolution_deadline, datetime(2024, 6, 5, 17))
        self.assertEqual(self.ticket.next_escalation_date, MONDAY.replace(hour=12))

    def test_each_level_fires_once(self):
        self.run_cron(MONDAY.replace(hour=11))
        self.assertFalse(self.steps(), "nothing is due before the first deadline")

        self.run_cron(MONDAY.replace(hour=12, minute=5))
        self.assertEqual(self.steps(), [(1, "first_response", "breach")])
        self.assertEqual(self.escalation_activities().user_id, self.agent1)
        self.assertEqual(self.ticket.escalation_level, 1)
        self.run_cron(MONDAY.replace(hour=12, minute=10))
        self.assertEqual(len(self.steps()), 1, "a step fires only once")

        with freeze_time(MONDAY.replace(hour=14)):
            self.public_reply(self.ticket, self.agent1)
        self.run_cron(datetime(2024, 6, 5, 11, 30))  # at risk
        self.assertEqual(self.steps()[-1], (1, "resolution", "warning"))
        activity = self.escalation_activities()
        self.assertEqual(len(activity), 1, "one open activity per person: no duplicate")
        self.assertIn("Warning", activity.summary, "updated to the latest step")
        self.assertEqual(self.ticket.user_id, self.agent1)

        self.run_cron(datetime(2024, 6, 5, 17, 1))  # breach
        self.assertEqual(self.steps()[-1], (2, "resolution", "breach"))
        self.assertEqual(self.ticket.user_id, self.leader, "breach reassigns to the team leader")
        self.assertEqual(self.ticket.priority, "2", "and raises the priority")
        self.assertEqual(self.ticket.escalation_level, 2)
        history = self.ticket.assignment_ids.filtered(lambda a: a.kind == "escalation")
        self.assertEqual(history.from_user_id, self.agent1)
        self.assertEqual(history.to_user_id, self.leader)

        self.run_cron(datetime(2024, 6, 6, 11))  # breach + 3 working hours: not yet
        self.assertEqual(len(self.steps()), 3)
        self.run_cron(datetime(2024, 6, 6, 12))  # breach + 4 working hours
        self.assertEqual(self.steps()[-1], (3, "resolution", "breach_delay"))
        notified = self.escalation_activities().filtered(lambda a: "level 3" in a.summary).user_id
        self.assertEqual(notified, self.vip_user | self.service_manager)
        self.assertEqual(self.ticket.escalation_level, 3)
        self.assertFalse(self.ticket.next_escalation_date, "the ladder is done")

        for moment in (datetime(2024, 6, 7, 9), datetime(2024, 6, 20, 9)):
            self.run_cron(moment)
        self.assertEqual(len(self.steps()), 4)
        # agent (first response breach, then warning), leader, account and service managers
        self.assertEqual(len(self.escalation_activities()), 4)
        logs = self.ticket.message_ids.filtered(lambda m: "SLA escalation level" in (m.body or ""))
        self.assertEqual(len(logs), 4, "each step is logged on the chatter once")

    def test_late_run_fires_all_due_steps_once(self):
        self.run_cron(datetime(2024, 6, 10, 9))
        self.assertEqual(
            sorted(self.steps()),
            [
                (1, "first_response", "breach"),
                (1, "resolution", "warning"),
                (2, "resolution", "breach"),
                (3, "resolution", "breach_delay"),
            ],
        )
        self.run_cron(datetime(2024, 6, 10, 10))
        self.assertEqual(len(self.steps()), 4)

    def test_activity_summary_in_the_assignee_language(self):
        """The escalation activity is read by its assignee: a Chinese agent reads Chinese,
        whatever the language of the cron's user."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["vip_service_ticket"], ["zh_CN"])
        self.agent1.lang = "zh_CN"
        self.run_cron(MONDAY.replace(hour=12, minute=5))
        activity = self.escalation_activities()
        self.assertEqual(activity.user_id, self.agent1)
        self.assertIn("SLA 升级级别 1", activity.summary)
        self.assertNotIn("escalation level", activity.summary)

    def test_answered_and_waiting_tickets(self):
        with freeze_time(MONDAY.replace(hour=9)):
            self.public_reply(self.ticket, self.agent2)
        self.assertEqual(self.ticket.first_response_date, MONDAY.replace(hour=9))
        self.run_cron(MONDAY.replace(hour=13))
        self.assertFalse(self.steps(), "answered in time: no first-response escalation")
        with freeze_time(MONDAY.replace(hour=15)):
            self.ticket.stage_id = self.stage_waiting
        self.run_cron(datetime(2024, 6, 10, 9))
        self.assertFalse(self.steps(), "waiting for the customer: no escalation")

    def test_closed_ticket_does_not_escalate(self):
        with freeze_time(MONDAY.replace(hour=9)):
            self.ticket.stage_id = self.stage_solved
        self.run_cron(datetime(2024, 6, 10, 9))
        self.assertFalse(self.steps())

    def test_closing_closes_escalation_activities(self):
        self.run_cron(datetime(2024, 6, 5, 11, 30))  # first response breached, at risk
        self.assertEqual(len(self.escalation_activities()), 1)
        self.run_cron(datetime(2024, 6, 5, 11, 40))
        self.assertEqual(len(self.escalation_activities()), 1, "a later run adds nothing")
        with freeze_time(datetime(2024, 6, 5, 12)):
            self.ticket.with_user(self.agent1).stage_id = self.stage_solved
        self.assertFalse(self.escalation_activities(), "closed with the ticket")
        done = self.ticket.message_ids.filtered(
            lambda m: m.mail_activity_type_id == self.activity_type
        )
        self.assertTrue(done, "marked done, in the chatter")
        self.assertIn("The ticket was closed.", done[0].body)

    def test_unique_step(self):
        self.run_cron(MONDAY.replace(hour=12, minute=5))
        fired = self.Escalation.search([("ticket_id", "=", self.ticket.id)])
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            fired.sudo().copy()

    def tracking(self, ticket):
        """The tracking lines of the ticket's assignee and priority: (field, old, new)."""
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking is written at commit time
        values = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("mail_message_id.model", "=", "vip.service.ticket"),
                    ("mail_message_id.res_id", "=", ticket.id),
                    ("field_id.name", "in", ("user_id", "priority")),
                ]
            )
        )
        return sorted(
            (
                value.field_id.name,
                value.old_value_integer or value.old_value_char,
                value.new_value_integer or value.new_value_char,
            )
            for value in values
        )

    def test_escalation_reassignment_looks_hand_made(self):
        """An escalation that reassigns to the leader and raises the priority leaves the
        tracking lines, the history row and the activity a person doing it by hand leaves;
        the history of both is written by the ticket's one logger."""
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(["vip_service_ticket"], ["zh_CN"])
        self.leader.write({"lang": "zh_CN", "tz": "Asia/Shanghai"})
        with freeze_time(MONDAY.replace(hour=8)):
            # a policy without ladder: the cron leaves it to the person
            by_hand = self.create_ticket(user_id=self.agent1.id, partner_id=self.other_customer.id)
        self.env.cr.precommit.run()  # creation tracking out of the way
        Ticket = type(self.Ticket)
        breach = datetime(2024, 6, 5, 17, 1)
        # the fixtures disable tracking; the cron and the person here track as in production
        env = self.env(context=dict(self.env.context, tracking_disable=False, mail_notrack=False))
        with (
            patch.object(
                Ticket, "_log_assignments", autospec=True, side_effect=Ticket._log_assignments
            ) as logger,
            freeze_time(breach),
        ):
            env["vip.service.ticket"]._cron_escalate()
        self.ticket.invalidate_recordset()
        self.assertEqual(
            [call.kwargs.get("kind") for call in logger.call_args_list], ["escalation"]
        )
        self.assertEqual((self.ticket.user_id, self.ticket.priority), (self.leader, "2"))

        step = self.sla_a.escalation_ids.filtered(lambda s: s.action == "reassign_leader")
        summary = self.env["vip.service.escalation.engine"]._prepare_step_summary(
            {"number": by_hand.number},
            step.read(["level", "name", "deadline_type", "trigger", "delay_hours"])[0],
            lang="zh_CN",
        )
        activity_type = self.activity_type
        with freeze_time(breach):
            by_hand.with_env(env).with_user(self.service_manager).write(
                {"user_id": self.leader.id, "priority": "2"}
            )
            # what the "Schedule Activity" dialog creates
            self.env["mail.activity"].with_user(self.service_manager).create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("vip.service.ticket"),
                    "res_id": by_hand.id,
                    "activity_type_id": activity_type.id,
                    "summary": summary,
                    "note": activity_type.with_context(lang="zh_CN").default_note,
                    "user_id": self.leader.id,
                    "date_deadline": activity_type.with_user(self.leader)._get_date_deadline(),
                }
            )
        expected = [
            ("priority", "Normal", "High"),
            ("user_id", self.agent1.id, self.leader.id),
        ]
        self.assertEqual(self.tracking(by_hand), expected)
        self.assertEqual(self.tracking(self.ticket), expected, "tracked as if done by hand")

        def activity(ticket):
            found = self.env["mail.activity"].search(
                [
                    ("res_model", "=", "vip.service.ticket"),
                    ("res_id", "=", ticket.id),
                    ("user_id", "=", self.leader.id),
                ]
            )
            self.assertEqual(len(found), 1)
            return {
                "activity_type_id": found.activity_type_id,
                "user_id": found.user_id,
                "res_model": found.res_model,
                "summary": found.summary.replace(ticket.number, "<number>"),
                "note": found.note,
                "date_deadline": found.date_deadline,
                "automated": found.automated,
            }

        escalated = activity(self.ticket)
        self.assertEqual(escalated, activity(by_hand))
        self.assertIn("SLA 升级级别 2", escalated["summary"], "in the leader's language")
        # walk in Chinese: the step's name stayed English inside the Chinese sentence,
        # and the chatter note was in the cron's language
        self.assertNotIn(step.name, escalated["summary"], "the step named in Chinese too")
        notes = self.ticket.message_ids.filtered(lambda m: "SLA" in (m.body or ""))
        self.assertTrue(notes)
        self.assertTrue(
            all("升级级别" in note.body for note in notes), "the note in the leader's language"
        )
        for ticket, kind in ((self.ticket, "escalation"), (by_hand, "manual")):
            row = ticket.assignment_ids.sorted("id")[-1]
            self.assertEqual(
                (row.kind, row.from_user_id, row.to_user_id), (kind, self.agent1, self.leader)
            )
            self.assertIn(self.leader.partner_id, ticket.message_partner_ids)

    def test_cron_batches_and_reports_what_is_left(self):
        """One bounded batch per call, the remaining work reported exactly; Odoo's cron
        runner calls again while some is left (no commit inside)."""
        with freeze_time(MONDAY.replace(hour=8)):
            tickets = self.ticket | self.create_ticket() | self.create_ticket()
        engine_module = "odoo.addons.vip_service_ticket.models.vip_service_escalation_engine"
        Cron = type(self.env["ir.cron"])
        reports = []
        with (
            patch(f"{engine_module}.ESCALATION_BATCH_SIZE", 1),
            patch.object(
                Cron,
                "_notify_progress",
                autospec=True,
                side_effect=lambda _cron, **kw: reports.append((kw["done"], kw["remaining"])),
            ),
        ):
            for _call in range(5):
                self.run_cron(MONDAY.replace(hour=12, minute=30))
                if reports[-1][1] == 0:
                    break
        # 3 tickets due (first response breached) and 3 statuses the clock changed
        self.assertEqual(reports, [(2, 4), (2, 2), (2, 0)])
        self.assertEqual(set(tickets.mapped("escalation_level")), {1})
        self.assertEqual(set(tickets.mapped("sla_status")), {"breached"})

    def test_cron_call_works_by_its_time_budget(self):
        """Production mode: called by Odoo's runner with time to spare, one call
        runs batch after batch (one ticket first) until nothing is due; with
        hardly any time left it does its first batch and reports the rest."""
        with freeze_time(MONDAY.replace(hour=8)):
            tickets = self.ticket | self.create_ticket() | self.create_ticket()
        engine_module = "odoo.addons.vip_service_ticket.models.vip_service_escalation_engine"
        Cron = type(self.env["ir.cron"])
        reports = []

        def calls(seconds):
            with (
                patch(f"{engine_module}.ESCALATION_BATCH_SIZE", 2),
                patch(f"{engine_module}.FIRST_BATCH_SIZE", 1),
                patch.object(Cron, "_vip_call_seconds", lambda cron: seconds),
                patch.object(
                    Cron,
                    "_notify_progress",
                    autospec=True,
                    side_effect=lambda _cron, **kw: reports.append((kw["done"], kw["remaining"])),
                ),
            ):
                self.run_cron(MONDAY.replace(hour=12, minute=30))

        calls(1e-9)
        self.assertEqual(reports, [(2, 4)], "one ticket due and one status: the first batch")
        calls(600.0)
        self.assertEqual(reports[-1], (4, 0), "the rest in one call")
        self.assertEqual(set(tickets.mapped("escalation_level")), {1})
        self.assertEqual(set(tickets.mapped("sla_status")), {"breached"})
