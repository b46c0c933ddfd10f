import importlib.util
from datetime import datetime, time, timedelta
from pathlib import Path

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import MONDAY, VipServiceTicketCommon

MIGRATION = Path(__file__).parent.parent / "migrations" / "18.0.1.1.0" / "post-migrate.py"


def load_migration():
    spec = importlib.util.spec_from_file_location("vip_service_ticket_migration_1_1", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class VipTicketMomentCommon(VipServiceTicketCommon):
    """The built-in key moments of the tickets for the test company (through the
    company hook), a second VIP customer of tier B and a VIP customer of another
    company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Rule = cls.env["vip.moment.rule"]
        cls.Occurrence = cls.env["vip.moment.occurrence"]
        cls.MomentEngine = cls.env["vip.moment.engine"]
        cls.followup_type = cls.env.ref("vip_service_ticket.mail_activity_type_ticket_followup")
        ticket_types = ["ticket_closed", "complaint_closed", "sla_breached"]
        # the company hook gave the test company its built-in rules when it was created
        rules = cls.Rule.with_context(active_test=False).search(
            [
                ("company_id", "=", cls.company.id),
                ("builtin", "=", True),
                ("builtin_code", "in", ticket_types),
            ]
        )
        # only the ticket moments in these tests
        (cls.Rule.search([("company_id", "=", cls.company.id)]) - rules).active = False
        rules.active = True
        cls.rule_closed = rules.filtered(lambda r: r.trigger_type == "ticket_closed")
        cls.rule_complaint = rules.filtered(lambda r: r.trigger_type == "complaint_closed")
        cls.rule_breach = rules.filtered(lambda r: r.trigger_type == "sla_breached")
        cls.customer_b = cls.env["res.partner"].create(
            {"name": "Jade Harbour", "is_company": True, "user_id": cls.vip_user.id}
        )
        cls.vip_program(cls.customer_b, cls.tier_b)
        cls.vip_program(cls.customer, cls.tier_a)

    @classmethod
    def vip_program(cls, partner, tier):
        """``partner`` in the test company's program at ``tier`` (as the tier engine
        writes it)."""
        partner.with_context(vip_engine=True).sudo().write(
            {"vip_tier_id": tier.id, "vip_company_id": tier.company_id.id}
        )

    def close(self, ticket, days_ago=0):
        """Close ``ticket`` (the stage, as a user does), then date the closing
        ``days_ago`` days back (the server's column, as the engine writes it)."""
        if not ticket.is_closed:
            ticket.stage_id = self.stage_solved
        if days_ago:
            day = self.today - timedelta(days=days_ago)
            ticket.sudo().write({"close_date": datetime.combine(day, time(12))})
        return ticket

    def moments(self, rule, partner=None):
        domain = [("rule_id", "=", rule.id)]
        if partner:
            domain.append(("partner_id", "=", partner.id))
        return self.Occurrence.search(domain)


@tagged("post_install", "-at_install")
class TestTicketMoments(VipTicketMomentCommon):
    def test_closing_gives_the_account_manager_a_follow_up_at_once(self):
        """Ported from the rating follow-up: closing a ticket asks for a rating and
        gives the customer's account manager a follow-up call, at once."""
        ticket = self.create_ticket(partner_id=self.contact.id, user_id=self.agent1.id)
        ticket.stage_id = self.stage_solved
        rating = self.env["rating.rating"].search(
            [("res_model", "=", ticket._name), ("res_id", "=", ticket.id)]
        )
        self.assertEqual(rating.partner_id, self.contact, "the rating request is still sent")
        moment = self.moments(self.rule_closed)
        self.assertEqual(moment.partner_id, self.customer, "the customer account's moment")
        self.assertEqual(moment.occasion_key, f"ticket:{ticket.id}")
        self.assertEqual(moment.user_id, self.vip_user, "the account manager follows up")
        activity = moment.activity_id
        self.assertEqual(activity.activity_type_id, self.followup_type)
        self.assertEqual(activity.user_id, self.vip_user)
        self.assertEqual(activity.res_model, "res.partner")
        self.assertEqual(activity.res_id, self.customer.id)
        self.assertEqual(activity.date_deadline, self.today + timedelta(days=2))
        self.assertIn(ticket.number, activity.note, "the task names the ticket")
        # the old follow-up on the ticket is gone: one task, not two
        self.assertFalse(
            ticket.activity_ids.filtered(lambda a: a.activity_type_id == self.followup_type)
        )
        # once per closing, however often the engine runs
        self.assertFalse(self.MomentEngine._run(self.today, rules=self.rule_closed))
        self.assertFalse(self.moments(self.rule_complaint), "no complaint, no complaint moment")

    def test_follow_up_done_processes_the_moment(self):
        ticket = self.close(self.create_ticket())
        moment = self.moments(self.rule_closed)
        moment.activity_id.with_user(self.vip_user).action_feedback(feedback="Happy again")
        self.assertEqual(moment.state, "done")
        self.assertEqual(moment.feedback, "Happy again")
        self.assertTrue(ticket.is_closed)

    def test_reopened_ticket_closed_again_is_a_new_occasion(self):
        ticket = self.close(self.create_ticket())
        self.assertEqual(len(self.moments(self.rule_closed)), 1)
        ticket.stage_id = self.stage_progress
        ticket.stage_id = self.stage_solved
        moments = self.moments(self.rule_closed)
        self.assertEqual(
            sorted(moments.mapped("occasion_key")), [f"ticket:{ticket.id}", f"ticket:{ticket.id}/1"]
        )

    def test_ticket_closed_selects_exactly_the_right_customers(self):
        self.rule_closed.active = False  # no signal: the nightly run alone
        far = self.env["res.partner"].create({"name": "Far Ltd", "is_company": True})
        self.vip_program(far, self.tier_c)
        plain = self.other_customer  # no VIP tier
        self.close(self.create_ticket(), days_ago=7)  # the last day of the lookback
        self.close(self.create_ticket(partner_id=self.customer_b.id), days_ago=8)  # too old
        self.close(self.create_ticket(partner_id=plain.id))
        self.create_ticket(partner_id=far.id)  # open
        self.close(
            self.create_ticket(
                partner_id=far.id,
                category_id=self.cat_complaint.id,
                root_cause_id=self.cause_delivery.id,
                solution="<p>Replaced</p>",
            )
        )  # a complaint: the other rule
        moments = self.MomentEngine._run(self.today, rules=self.rule_closed)
        self.assertEqual(moments.partner_id, self.customer)
        self.assertEqual(moments.occasion_date, self.today - timedelta(days=7))

    def test_ticket_closed_tier_filter(self):
        self.rule_closed.active = False
        self.rule_closed.tier_ids = [Command.set(self.tier_b.ids)]
        self.close(self.create_ticket())
        self.close(self.create_ticket(partner_id=self.customer_b.id))
        moments = self.MomentEngine._run(self.today, rules=self.rule_closed)
        self.assertEqual(moments.partner_id, self.customer_b)
        self.assertEqual(moments.user_id, self.vip_user, "the salesperson without account manager")

    def test_complaint_closed(self):
        complaint = self.create_ticket(
            partner_id=self.contact.id,
            category_id=self.cat_complaint.id,
            root_cause_id=self.cause_delivery.id,
            solution="<p>Replaced the vase.</p>",
        )
        inquiry_b = self.create_ticket(partner_id=self.customer_b.id)
        self.close(inquiry_b)
        self.close(complaint)
        moment = self.moments(self.rule_complaint)
        self.assertEqual(moment.partner_id, self.customer, "complaints only")
        self.assertEqual(moment.occasion_key, f"ticket:{complaint.id}")
        self.assertEqual(moment.trigger_kind, "anomaly")
        self.assertFalse(
            self.moments(self.rule_closed, self.customer),
            "a complaint has its own follow-up visit: no ticket follow-up",
        )
        self.assertFalse(self.MomentEngine._run(self.today, rules=self.rule_complaint))
        # tier filter
        self.rule_complaint.tier_ids = [Command.set(self.tier_b.ids)]
        complaint_b = self.create_ticket(
            partner_id=self.customer_b.id,
            category_id=self.cat_complaint.id,
            root_cause_id=self.cause_delivery.id,
            solution="<p>Refunded.</p>",
        )
        self.close(complaint_b)
        self.assertEqual(
            self.moments(self.rule_complaint, self.customer_b).occasion_key,
            f"ticket:{complaint_b.id}",
        )

    def test_builtin_rules_of_every_company(self):
        self.assertEqual(
            sorted(
                self.rule_closed.mapped("builtin_code") + self.rule_breach.mapped("builtin_code")
            ),
            ["sla_breached", "ticket_closed"],
        )
        self.assertEqual(self.rule_closed.activity_type_id, self.followup_type)
        self.assertEqual(self.rule_closed.trigger_kind, "event")
        self.assertEqual(self.rule_breach.trigger_kind, "anomaly")
        main_rules = (
            self.Rule.sudo()
            .with_context(active_test=False)
            .search(
                [("company_id", "=", self.env.ref("base.main_company").id), ("builtin", "=", True)]
            )
        )
        by_code = {rule.builtin_code: rule for rule in main_rules}
        self.assertTrue(by_code["ticket_closed"].active)
        self.assertTrue(by_code["sla_breached"].active)
        self.assertFalse(
            by_code["complaint_closed"].active, "the complaint loop visits the customer already"
        )
        # a new company gets them, once
        company = self.env["res.company"].sudo().create({"name": "Moments Ltd"})
        codes = (
            self.Rule.sudo()
            .with_context(active_test=False)
            .search([("company_id", "=", company.id), ("builtin", "=", True)])
            .mapped("builtin_code")
        )
        for code in ("ticket_closed", "complaint_closed", "sla_breached"):
            self.assertEqual(codes.count(code), 1, code)
        self.assertFalse(company._vip_create_builtin_moment_rules(), "idempotent")


@tagged("post_install", "-at_install")
class TestSlaBreachMoment(VipTicketMomentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(MONDAY.replace(hour=8)):
            cls.ticket = cls.create_ticket(user_id=cls.agent1.id)
            cls.ticket_b = cls.create_ticket(partner_id=cls.customer_b.id, user_id=cls.agent1.id)
            cls.env.flush_all()
        # first response due: A Mon 12:00, B Mon 17:00

    def run_cron(self, moment):
        with freeze_time(moment):
            self.Ticket._cron_escalate()
            self.env.flush_all()

    def test_breach_found_by_the_cron_is_a_task_at_once(self):
        self.run_cron(MONDAY.replace(hour=11, minute=5))
        self.assertFalse(self.moments(self.rule_breach), "at risk is no breach")
        self.run_cron(MONDAY.replace(hour=12, minute=5))
        self.assertEqual(self.ticket.sla_status, "breached")
        moment = self.moments(self.rule_breach)
        self.assertEqual(moment.partner_id, self.customer, "tier B is not breached yet")
        self.assertEqual(moment.occasion_key, f"sla:{self.ticket.id}")
        self.assertEqual(moment.occasion_date, MONDAY.date())
        self.assertEqual(moment.activity_id.user_id, self.vip_user)
        self.assertEqual(moment.activity_id.date_deadline, MONDAY.date() + timedelta(days=1))
        # once per ticket: the next runs and the resolution breach give nothing more
        self.run_cron(MONDAY.replace(hour=16, minute=5))
        self.run_cron(datetime(2024, 6, 6, 10))
        self.assertEqual(self.moments(self.rule_breach, self.customer), moment)
        self.assertEqual(
            self.moments(self.rule_breach, self.customer_b).occasion_key, f"sla:{self.ticket_b.id}"
        )

    def test_breach_lookback_and_tier_filter(self):
        self.rule_breach.active = False  # the nightly run alone
        self.run_cron(MONDAY.replace(hour=17, minute=30))
        Engine = self.MomentEngine
        # breached on Monday: the lookback holds it for 7 days, not 8
        self.assertFalse(Engine._run(MONDAY.date() + timedelta(days=8), rules=self.rule_breach))
        self.rule_breach.tier_ids = [Command.set(self.tier_b.ids)]
        moments = Engine._run(MONDAY.date() + timedelta(days=7), rules=self.rule_breach)
        self.assertEqual(moments.partner_id, self.customer_b)
        self.assertEqual(moments.occasion_date, MONDAY.date())

    def test_met_sla_is_no_breach(self):
        with freeze_time(MONDAY.replace(hour=9)):
            self.public_reply(self.ticket, self.agent1)
            self.ticket.stage_id = self.stage_solved
            self.env.flush_all()
        self.assertEqual(self.ticket.sla_status, "met")
        self.run_cron(MONDAY.replace(hour=17))
        self.assertFalse(self.moments(self.rule_breach, self.customer))


@tagged("post_install", "-at_install")
class TestOpenTicketFromVisit(VipTicketMomentCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.create_ticket()
        cls.source.stage_id = cls.stage_solved
        cls.moment = cls.Occurrence.search([("rule_id", "=", cls.rule_closed.id)])
        cls.other_vip_user = new_test_user(
            cls.env,
            login="vst-vip-other",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def test_assignee_opens_a_ticket_for_the_needs(self):
        self.assertEqual(self.moment.user_id, self.vip_user)
        moment = self.moment.with_user(self.vip_user)
        moment.write({"needs": "A second vase\nDelivered before Friday"})
        action = moment.action_open_ticket()
        ticket = self.moment.ticket_id
        self.assertTrue(ticket)
        self.assertEqual(ticket.partner_id, self.customer)
        self.assertEqual(ticket.name, "A second vase")
        self.assertIn("Delivered before Friday", ticket.description)
        self.assertEqual(ticket.channel, "visit")
        self.assertEqual(ticket.company_id, self.company)
        self.assertEqual(ticket.vip_moment_occurrence_id, self.moment, "linked back")
        self.assertTrue(ticket.user_id, "the service team's assignment applies")
        # the account manager is no service agent: told, not sent to a form they cannot read
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn(ticket.number, action["params"]["message"])
        # once: a second click shows the same ticket
        moment.action_open_ticket()
        self.assertEqual(
            self.Ticket.search_count([("vip_moment_occurrence_id", "=", self.moment.id)]), 1
        )
        # the ticket's smart link opens the moment
        back = ticket.action_view_moment()
        self.assertEqual(
            (back["res_model"], back["res_id"]), ("vip.moment.occurrence", self.moment.id)
        )

    def test_vip_manager_opens_it_with_the_form(self):
        self.vip_manager.groups_id = [
            Command.link(self.env.ref("vip_service_ticket.group_vip_service_manager").id)
        ]
        moment = self.moment.with_user(self.vip_manager)
        moment.write({"needs": "Gift wrapping"})
        action = moment.action_open_ticket()
        self.assertEqual(action["res_model"], "vip.service.ticket")
        self.assertEqual(action["res_id"], self.moment.ticket_id.id)

    def test_only_the_assignee_or_a_vip_manager(self):
        self.moment.with_user(self.vip_user).write({"needs": "A second vase"})
        with self.assertRaises(AccessError):
            self.moment.with_user(self.other_vip_user).action_open_ticket()
        with self.assertRaises(AccessError):
            self.moment.with_user(self.agent1).action_open_ticket()
        self.assertFalse(self.moment.ticket_id)
        self.assertFalse(
            self.Ticket.search([("partner_id", "=", self.customer.id), ("channel", "=", "visit")])
        )

    def test_no_needs_no_ticket_and_links_are_the_servers(self):
        with self.assertRaises(UserError):
            self.moment.with_user(self.vip_user).action_open_ticket()
        self.moment.with_user(self.vip_user).write({"needs": "   "})
        with self.assertRaises(UserError):
            self.moment.with_user(self.vip_user).action_open_ticket()
        self.assertFalse(self.moment.ticket_id)
        # nobody links tickets and moments by hand
        with self.assertRaises(AccessError):
            self.moment.with_user(self.vip_user).write({"ticket_id": self.source.id})
        with self.assertRaises(AccessError):
            self.moment.with_user(self.vip_manager).write({"ticket_id": self.source.id})
        with self.assertRaises(AccessError):
            self.source.write({"vip_moment_occurrence_id": self.moment.id})
        with self.assertRaises(AccessError):
            self.create_ticket(vip_moment_occurrence_id=self.moment.id)

    def test_cancelled_moment_opens_no_ticket(self):
        self.moment.with_user(self.vip_user).write({"needs": "A second vase"})
        self.moment.activity_id.unlink()
        self.assertEqual(self.moment.state, "cancelled")
        with self.assertRaises(UserError):
            self.moment.with_user(self.vip_user).action_open_ticket()

    def test_visit_wizard_records_and_opens_in_one_click(self):
        Visit = self.env["vip.moment.visit"].with_user(self.vip_user)
        wizard = Visit.create({"occurrence_id": self.moment.id, "outcome": "reached"})
        with self.assertRaises(UserError):
            wizard.action_record_open_ticket()
        self.assertEqual(self.moment.state, "open", "nothing recorded without needs")
        wizard.write({"needs": "A vase for the new office", "feedback": "Pleased"})
        action = wizard.action_record_open_ticket()
        self.assertEqual(self.moment.state, "done")
        self.assertEqual(self.moment.outcome, "reached")
        self.assertEqual(self.moment.ticket_id.name, "A vase for the new office")
        self.assertEqual(action["tag"], "display_notification")
        with self.assertRaises(AccessError):
            self.env["vip.moment.visit"].with_user(self.other_vip_user).create(
                {"occurrence_id": self.moment.id, "needs": "x"}
            )


@tagged("post_install", "-at_install")
class TestMomentMigration(VipTicketMomentCommon):
    """18.0.1.1.0: tickets followed up the old way are moments already."""

    def old_followup(self, ticket):
        """The activity the ticket scheduled itself on closing before the upgrade."""
        return (
            self.env["mail.activity"]
            .sudo()
            .create(
                {
                    "res_model_id": self.env["ir.model"]._get_id(ticket._name),
                    "res_id": ticket.id,
                    "activity_type_id": self.followup_type.id,
                    "user_id": self.vip_user.id,
                    "summary": f"Follow up with the customer on {ticket.number}",
                    "date_deadline": self.today + timedelta(days=2),
                }
            )
        )

    def test_followed_up_tickets_become_moments(self):
        customer_c = self.env["res.partner"].create(
            {"name": "Cedar Hill", "is_company": True, "user_id": self.vip_user.id}
        )
        self.vip_program(customer_c, self.tier_c)
        self.rule_closed.active = False  # the old code ran at closing, not the rule
        open_followup = self.close(self.create_ticket(), days_ago=1)
        pending = self.old_followup(open_followup)
        done_followup = self.close(self.create_ticket(partner_id=self.customer_b.id), days_ago=2)
        self.old_followup(done_followup).action_feedback("Called")
        never = self.close(self.create_ticket(partner_id=customer_c.id), days_ago=1)
        self.rule_closed.active = True

        migration = load_migration()
        moments = migration.migrate_followups(self.env, today=self.today)
        self.assertEqual(moments.partner_id, self.customer | self.customer_b)
        first = moments.filtered(lambda m: m.partner_id == self.customer)
        self.assertEqual(first.occasion_key, f"ticket:{open_followup.id}")
        self.assertEqual(first.state, "open")
        self.assertEqual(first.activity_id, pending, "the old follow-up is the moment's task")
        second = moments - first
        self.assertEqual(second.occasion_key, f"ticket:{done_followup.id}")
        self.assertEqual(second.state, "done")
        self.assertEqual(second.board_state, "done")
        # nothing twice: the engine only acts on the ticket never followed up
        created = self.MomentEngine._run(self.today, rules=self.rule_closed)
        self.assertEqual(created.partner_id, customer_c)
        self.assertEqual(created.occasion_key, f"ticket:{never.id}")
        self.assertFalse(migration.migrate_followups(self.env, today=self.today), "idempotent")
        # the old follow-up done processes its moment
        pending.action_feedback("Called back")
        self.assertEqual(first.state, "done")

    def test_upgrade_moves_the_follow_up_type_and_creates_the_rules(self):
        self.followup_type.res_model = "vip.service.ticket"
        self.rule_breach.unlink()
        load_migration().migrate(self.env.cr, "18.0.1.0.0")
        self.assertEqual(self.followup_type.res_model, "res.partner", "tasks on the customer")
        rules = self.Rule.search(
            [("company_id", "=", self.company.id), ("builtin_code", "=", "sla_breached")]
        )
        self.assertEqual(len(rules), 1, "the missing built-in rule is created again")
