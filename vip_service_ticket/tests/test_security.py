from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import VipServiceTicketCommon


@tagged("post_install", "-at_install")
class TestSecurity(VipServiceTicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own = cls.create_ticket(user_id=cls.agent1.id)
        cls.hotline_ticket = cls.create_ticket(
            team_id=cls.team_hotline.id, user_id=cls.outsider.id, partner_id=cls.other_customer.id
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="vst-portal",
            groups="base.group_portal",
            partner_id=cls.contact.id,
        )
        cls.other_company = cls.env["res.company"].create({"name": "VIP Other Co"})
        cls.foreign = cls.Ticket.create(
            {
                "name": "Elsewhere",
                "company_id": cls.other_company.id,
                "team_id": False,
                "partner_id": cls.other_customer.id,
            }
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_service_user_sees_own_and_team_tickets(self):
        Ticket = self.Ticket.with_user(self.agent2)
        visible = Ticket.search([])
        self.assertIn(self.own, visible, "a team ticket")
        self.assertNotIn(self.hotline_ticket, visible)
        self.own.with_user(self.agent2).write({"priority": "2"})
        with self.assertRaises(AccessError):
            self.hotline_ticket.with_user(self.agent2).read(["name"])
        with self.assertRaises(AccessError):
            self.hotline_ticket.with_user(self.agent2).write({"priority": "2"})
        with self.assertRaises(AccessError):
            self.own.with_user(self.agent2).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_own_ticket_outside_the_team(self):
        self.hotline_ticket.user_id = self.agent2
        self.hotline_ticket.with_user(self.agent2).read(["name"])
        self.assertEqual(
            self.hotline_ticket.with_user(self.agent2).assignment_ids.to_user_id,
            self.outsider | self.agent2,
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_service_user_cannot_configure(self):
        for model, vals in [
            ("vip.service.sla", {"name": "Mine", "resolution_hours": 1}),
            ("vip.service.team", {"name": "Mine", "assignment_method": "manual"}),
            ("vip.service.stage", {"name": "Mine"}),
            ("vip.service.category", {"name": "Mine"}),
            ("vip.service.root.cause", {"name": "Mine"}),
        ]:
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.agent1).create(vals)
        with self.assertRaises(AccessError):
            self.sla_a.with_user(self.agent1).write({"resolution_hours": 100})
        with self.assertRaises(AccessError):
            self.env["vip.service.ticket.escalation"].with_user(self.agent1).create(
                {
                    "ticket_id": self.own.id,
                    "step_id": self.sla_a.escalation_ids[0].id,
                    "level": 1,
                    "action": "notify_assignee",
                    "deadline_type": "resolution",
                    "company_id": self.company.id,
                }
            )
        with self.assertRaises(AccessError):
            self.own.assignment_ids.with_user(self.agent1).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_history_follows_ticket_rules(self):
        self.assertTrue(self.own.assignment_ids)
        self.assertFalse(
            self.env["vip.service.ticket.assignment"]
            .with_user(self.agent2)
            .search([("ticket_id", "=", self.hotline_ticket.id)])
        )
        self.assertTrue(
            self.env["vip.service.ticket.report"]
            .with_user(self.agent2)
            .search([("ticket_id", "=", self.own.id)])
        )
        self.assertFalse(
            self.env["vip.service.ticket.report"]
            .with_user(self.agent2)
            .search([("ticket_id", "=", self.hotline_ticket.id)])
        )

    def test_manager_sees_all(self):
        visible = self.Ticket.with_user(self.service_manager).search([])
        self.assertIn(self.own, visible)
        self.assertIn(self.hotline_ticket, visible)
        self.own.with_user(self.service_manager).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_company_rule(self):
        self.service_manager.company_ids = [Command.link(self.other_company.id)]
        Ticket = self.Ticket.with_user(self.service_manager).with_context(
            allowed_company_ids=[self.company.id]
        )
        self.assertNotIn(self.foreign, Ticket.search([]))
        with self.assertRaises(AccessError):
            self.foreign.with_user(self.service_manager).with_context(
                allowed_company_ids=[self.company.id]
            ).read(["name"])
        self.assertIn(
            self.foreign,
            Ticket.with_context(
                allowed_company_ids=[self.company.id, self.other_company.id]
            ).search([]),
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_portal_rules(self):
        Ticket = self.Ticket.with_user(self.portal_user)
        self.assertEqual(Ticket.search([]), self.own, "the tickets of their own company only")
        self.own.with_user(self.portal_user).read(["name", "stage_id"])
        with self.assertRaises(AccessError):
            self.hotline_ticket.with_user(self.portal_user).read(["name"])
        with self.assertRaises(AccessError):
            self.own.with_user(self.portal_user).write({"priority": "3"})
        with self.assertRaises(AccessError):
            self.env["vip.service.sla"].with_user(self.portal_user).search([])
        with self.assertRaises(AccessError):
            Ticket.create(
                {
                    "name": "For someone else",
                    "partner_id": self.other_customer.id,
                    "company_id": self.company.id,
                    "team_id": False,
                }
            )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_plain_employee_has_no_access(self):
        with self.assertRaises(AccessError):
            self.Ticket.with_user(self.salesman).search([])


# ----------------------------------------------------------------------
# The rules as a table: one test per rule, each with the user it denies.
#   model                      portal   plain internal   service user          service manager
#   vip.service.ticket         R own    -                CRW own/team tickets  CRWD (company)
#   vip.service.stage          R        R                R                     CRWD
#   vip.service.category       R        R                R                     CRWD
#   vip.service.tag            -        R                CRW                   CRWD
#   vip.service.root.cause     -        -                R                     CRWD
#   vip.service.team           -        -                R (company)           CRWD (company)
#   vip.service.sla            -        -                R (company)           CRWD (company)
#   vip.service.sla.escalation -        -                R (company)           CRWD (company)
#   vip.service.ticket.escalation  -    -                R own/team            R (server writes)
#   vip.service.ticket.assignment  -    -                R own/team            R (server writes)
#   vip.service.ticket.report  -        -                R own/team            R
#   vip.service.ticket.reassign -       -                CRW (own wizards)     CRW
# Ticket fields the server derives: refused to everyone; SLA start and policy:
# service managers only.
# ----------------------------------------------------------------------
@tagged("post_install", "-at_install")
class TestSecurityTable(VipServiceTicketCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own = cls.create_ticket(user_id=cls.agent1.id)
        cls.hotline_ticket = cls.create_ticket(
            team_id=cls.team_hotline.id, user_id=cls.outsider.id, partner_id=cls.other_customer.id
        )
        cls.portal_user = new_test_user(
            cls.env, login="vst-table-portal", groups="base.group_portal", partner_id=cls.contact.id
        )
        cls.plain = cls.salesman  # an internal user without any VIP Service group
        cls.other_company = cls.env["res.company"].create({"name": "VIP Table Other Co"})
        cls.other_manager = new_test_user(
            cls.env,
            login="vst-table-other-manager",
            groups="base.group_user,vip_service_ticket.group_vip_service_manager",
            company_id=cls.other_company.id,
            company_ids=[Command.set(cls.other_company.ids)],
        )

    def denied(self, user, model, operation, records=None, vals=None):
        """Assert ``user`` may not do ``operation`` on ``model`` (or ``records``)."""
        Model = self.env[model].with_user(user)
        records = (records or self.env[model]).with_user(user)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            if operation == "create":
                Model.create(vals or {"name": "Forged"})
            elif operation == "read" and records:
                records.read(["display_name"])
            elif operation == "read":
                Model.search([])
            elif operation == "write":
                records.write(vals or {"name": "Forged"})
            elif operation == "unlink":
                records.unlink()

    # --- vip.service.ticket ---------------------------------------------------------
    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_portal_reads_own_company_only(self):
        self.own.with_user(self.portal_user).read(["name"])
        self.denied(self.portal_user, "vip.service.ticket", "read", self.hotline_ticket)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_portal_creates_only_through_the_form(self):
        self.denied(
            self.portal_user,
            "vip.service.ticket",
            "create",
            vals={"name": "Mine", "partner_id": self.contact.id, "priority": "3"},
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_portal_cannot_write(self):
        self.denied(self.portal_user, "vip.service.ticket", "write", self.own, {"priority": "3"})

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_plain_user_cannot_read(self):
        self.denied(self.plain, "vip.service.ticket", "read", self.own)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_plain_user_cannot_create(self):
        self.denied(self.plain, "vip.service.ticket", "create", vals={"name": "Mine"})

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_agent_writes_team_tickets_only(self):
        self.own.with_user(self.agent2).write({"priority": "2"})
        self.denied(
            self.agent2, "vip.service.ticket", "write", self.hotline_ticket, {"priority": "2"}
        )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_agent_cannot_unlink(self):
        self.denied(self.agent1, "vip.service.ticket", "unlink", self.own)

    def test_ticket_manager_unlinks(self):
        self.own.with_user(self.service_manager).unlink()
        self.assertFalse(self.own.exists())

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_other_company_manager_denied(self):
        self.denied(self.other_manager, "vip.service.ticket", "read", self.own)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_server_fields_refused_to_everyone(self):
        now = fields.Datetime.now()
        values = {
            "number": "VT-FORGED",
            "vip_tier_id": self.tier_c.id,
            "sla_status": "met",
            "sla_status_date": False,
            "first_response_deadline": now,
            "first_response_warning_date": now,
            "first_response_date": now,
            "resolution_deadline": now,
            "resolution_warning_date": now,
            "sla_paused_since": now,
            "sla_paused_hours": 100.0,
            "sla_replan_date": now,
            "sla_replan_offset": -100.0,
            "sla_met": True,
            "first_response_work_hours": 0.1,
            "resolution_work_hours": 0.1,
            "next_escalation_date": False,
            "escalation_level": 0,
            "close_date": now,
            "reopen_count": 0,
            "last_reopen_date": now,
        }
        for user in (self.agent1, self.service_manager):
            for fname, value in values.items():
                with self.subTest(user=user.login, field=fname):
                    self.denied(user, "vip.service.ticket", "write", self.own, {fname: value})
                    self.denied(
                        user,
                        "vip.service.ticket",
                        "create",
                        vals={"name": "Forged", "team_id": self.team.id, fname: value},
                    )

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_ticket_sla_corrections_refused_to_agents(self):
        for fname, value in (("sla_start_date", fields.Datetime.now()), ("sla_id", self.sla_c.id)):
            with self.subTest(field=fname):
                self.denied(self.agent1, "vip.service.ticket", "write", self.own, {fname: value})
        self.own.with_user(self.service_manager).write({"sla_id": self.sla_c.id})
        self.assertEqual(self.own.sla_id, self.sla_c)

    # --- configuration ----------------------------------------------------------------
    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_configuration_read_only_for_agents(self):
        records = {
            "vip.service.stage": self.stage_new,
            "vip.service.category": self.cat_inquiry,
            "vip.service.root.cause": self.cause_delivery,
            "vip.service.team": self.team,
            "vip.service.sla": self.sla_a,
            "vip.service.sla.escalation": self.sla_a.escalation_ids[:1],
        }
        for model, record in records.items():
            with self.subTest(model=model):
                record.with_user(self.agent1).read(["display_name"])
                self.denied(self.agent1, model, "write", record, {"sequence": 1})
                self.denied(self.agent1, model, "unlink", record)
        for model in ("vip.service.stage", "vip.service.category", "vip.service.root.cause"):
            with self.subTest(model=model):
                self.denied(self.agent1, model, "create", vals={"name": "Mine"})

    def test_configuration_managed_by_managers(self):
        Stage = self.env["vip.service.stage"].with_user(self.service_manager)
        stage = Stage.create({"name": "Escalated to supplier"})
        stage.write({"sequence": 99})
        stage.unlink()
        self.sla_a.with_user(self.service_manager).write({"resolution_hours": 30})

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_configuration_of_another_company_hidden(self):
        self.denied(self.other_manager, "vip.service.team", "read", self.team)
        self.denied(self.other_manager, "vip.service.sla", "read", self.sla_a)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_portal_reads_stages_and_categories_only(self):
        self.stage_new.with_user(self.portal_user).read(["name"])
        self.cat_inquiry.with_user(self.portal_user).read(["name"])
        for model, record in (
            ("vip.service.team", self.team),
            ("vip.service.sla", self.sla_a),
            ("vip.service.root.cause", self.cause_delivery),
            ("vip.service.tag", self.env["vip.service.tag"].create({"name": "Fragile"})),
        ):
            with self.subTest(model=model):
                self.denied(self.portal_user, model, "read", record)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_tags_created_by_agents_deleted_by_managers(self):
        tag = self.env["vip.service.tag"].with_user(self.agent1).create({"name": "Gift"})
        tag.with_user(self.agent1).write({"name": "Gifts"})
        self.denied(self.agent1, "vip.service.tag", "unlink", tag)
        self.denied(self.plain, "vip.service.tag", "create", vals={"name": "Mine"})
        tag.with_user(self.service_manager).unlink()

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_plain_user_cannot_read_service_configuration(self):
        for model, record in (
            ("vip.service.root.cause", self.cause_delivery),
            ("vip.service.team", self.team),
            ("vip.service.sla", self.sla_a),
        ):
            with self.subTest(model=model):
                self.denied(self.plain, model, "read", record)

    # --- audit trails: written by the server only -------------------------------------
    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_assignment_history_written_by_the_server_only(self):
        row = self.own.assignment_ids[:1]
        self.assertTrue(row)
        vals = {
            "ticket_id": self.own.id,
            "to_user_id": self.agent2.id,
            "kind": "manual",
            "company_id": self.company.id,
        }
        for user in (self.agent1, self.service_manager):
            with self.subTest(user=user.login):
                self.denied(user, "vip.service.ticket.assignment", "create", vals=vals)
                self.denied(
                    user, "vip.service.ticket.assignment", "write", row, {"reason": "forged"}
                )
                self.denied(user, "vip.service.ticket.assignment", "unlink", row)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_escalation_log_written_by_the_server_only(self):
        with freeze_time(fields.Datetime.now() + timedelta(days=60)):
            self.own._sla_escalate()
        row = self.own.escalation_ids[:1]
        self.assertTrue(row)
        vals = {
            "ticket_id": self.hotline_ticket.id,
            "step_id": self.sla_a.escalation_ids[0].id,
            "level": 1,
            "action": "notify_assignee",
            "deadline_type": "resolution",
            "company_id": self.company.id,
        }
        for user in (self.agent1, self.service_manager):
            with self.subTest(user=user.login):
                self.denied(user, "vip.service.ticket.escalation", "create", vals=vals)
                self.denied(user, "vip.service.ticket.escalation", "write", row, {"level": 9})
                self.denied(user, "vip.service.ticket.escalation", "unlink", row)

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_analysis_follows_ticket_rules(self):
        Report = self.env["vip.service.ticket.report"]
        self.assertTrue(Report.with_user(self.agent2).search([("ticket_id", "=", self.own.id)]))
        self.assertFalse(
            Report.with_user(self.agent2).search([("ticket_id", "=", self.hotline_ticket.id)])
        )
        self.denied(self.plain, "vip.service.ticket.report", "read")

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_transfer_wizard_for_service_users(self):
        vals = {"ticket_ids": [Command.set(self.own.ids)], "user_id": self.agent2.id, "reason": "x"}
        self.env["vip.service.ticket.reassign"].with_user(self.agent1).create(vals)
        self.denied(self.plain, "vip.service.ticket.reassign", "create", vals=vals)
        self.denied(self.portal_user, "vip.service.ticket.reassign", "create", vals=vals)


@tagged("post_install", "-at_install")
class TestCompanyGuard(VipServiceTicketCommon):
    """A service manager of company 1 only cannot push a team or an SLA policy into
    another company."""

    @mute_logger("odoo.addons.base.models.ir_rule", "odoo.addons.base.models.ir_model")
    def test_records_stay_in_the_managers_companies(self):
        other = self.env["res.company"].create({"name": "VIP Service Elsewhere"})
        # a policy without company-bound tiers: Odoo's own company check has nothing to refuse
        responsibility = self.env["vip.service.responsibility"].create(
            {"name": "Logistics", "company_id": self.company.id}
        )
        for record in (self.team_hotline, self.sla_default, responsibility):
            with self.subTest(model=record._name), self.assertRaisesRegex(AccessError, "Company"):
                record.with_user(self.service_manager).write({"company_id": other.id})
            self.assertEqual(record.company_id, self.company)
        self.sla_a.with_user(self.service_manager).write({"name": "Platinum care"})
        self.assertEqual(self.sla_a.name, "Platinum care")
