"""The access rules of vip_customer, one test per rule, each with the user it denies.

Users: the customer's own portal user, a plain employee who may edit contacts
(no VIP group), a VIP user, a VIP manager, and a VIP manager of another company.

================================  ========  =========  ===========  ===========  =============
model / fields                    portal    employee   VIP user     VIP manager  other company
================================  ========  =========  ===========  ===========  =============
res.partner tier (badge)          read      read       read         read, write  -
res.partner tier outcome, lock,   -         -          read         read, write  -
  metrics, churn (engine-owned)
res.partner follow-up plan,       -         -          read, write  read, write  -
  confidential notes
res.partner preferences,          -         read,      read, write  read, write  -
  birthday, interests                       write
vip.tier                          read      read       read         all          - (company)
vip.tier.history                  -         -          read         read         - (company)
vip.interest.tag                  -         -          read, create, all          -
                                                       write
vip.pareto.report                 -         -          read         read         - (company)
vip.tier.change (wizard)          -         -          -            own only     -
vip.customer.import (+ lines)     -         -          -            own only,    -
                                                                    own company
res.company VIP settings          -         read       read         read         administrators
================================  ========  =========  ===========  ===========  =============

Nobody writes or deletes a tier history row: the engine and the managers'
tier change (which go through the server) create them.
"""


from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.vip_customer.models.res_partner import ENGINE_FIELDS, MANAGER_FIELDS

from .common import VipCustomerCommon, xlsx_file

# Fields a portal user must not read on their own contact, by group they need.
VIP_USER_FIELDS = (
    "vip_tier_since",
    "vip_pending_tier_id",
    "vip_downgrade_date",
    "vip_next_review_date",
    "vip_locked",
    "vip_lock_reason",
    "vip_lock_until",
    "vip_spend",
    "vip_purchase_count",
    "vip_avg_purchase",
    "vip_last_purchase_date",
    "vip_prev_spend",
    "vip_churn_score",
    "vip_churn_level",
    "vip_churn_recency_score",
    "vip_churn_signal_note",
    "vip_churn_high_since",
    "vip_last_followup_date",
    "vip_next_followup_date",
    "vip_sensitive_note",
    "vip_special_needs",
    "vip_diet_preference",
    "vip_tier_history_ids",
)
EMPLOYEE_FIELDS = (
    "vip_preferred_channel",
    "vip_preferred_contact_time",
    "vip_interest_tag_ids",
    "vip_gift_preference",
    "vip_other_preference",
    "vip_birthday",
    "vip_anniversary_date",
)


def _xlsx(rows):
    return xlsx_file(rows, ("Name", "Email", "Notes"))


@tagged("post_install", "-at_install")
class TestSecurity(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.with_user(cls.vip_manager).vip_tier_id = cls.tier_b
        cls.history = cls.customer.vip_tier_history_ids
        cls.portal_user = new_test_user(
            cls.env, login="vip_customer-portal", groups="base.group_portal"
        )
        cls.portal_partner = cls.portal_user.partner_id
        cls.portal_partner.sudo().write(
            {
                "vip_tier_id": cls.tier_b.id,
                "vip_churn_score": 80,
                "vip_churn_level": "high",
                "vip_churn_signal_note": "talks to competitor",
                "vip_spend": 52000,
                "vip_sensitive_note": "difficult payer",
                "vip_preferred_channel": "phone",
            }
        )
        cls.company_2 = cls.setup_other_company(name="VIP Second Co")["company"]
        cls.other_manager = new_test_user(
            cls.env,
            login="vip_customer-manager-2",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=cls.company_2.id,
            company_ids=[Command.set(cls.company_2.ids)],
        )
        cls.colleague_manager = new_test_user(
            cls.env,
            login="vip_customer-manager-colleague",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    # ------------------------------------------------------------------
    # res.partner: who writes the tier outcome and the engine's metrics
    # ------------------------------------------------------------------
    def _protected_vals(self):
        """A value for each engine- or manager-owned field of res.partner."""
        future = fields.Date.add(self.today, years=20)
        return {
            "vip_tier_id": self.tier_a.id,
            "vip_tier_since": self.today,
            "vip_company_id": self.company.id,
            "vip_pending_tier_id": self.tier_c.id,
            "vip_downgrade_date": future,
            "vip_locked": True,
            "vip_lock_reason": "friend of the boss",
            "vip_lock_until": future,
            "vip_spend": 10**6,
            "vip_purchase_count": 99,
            "vip_avg_purchase": 10**4,
            "vip_first_purchase_date": self.today,
            "vip_last_purchase_date": self.today,
            "vip_prev_spend": 10**6,
            "vip_prev_purchase_count": 99,
            "vip_churn_score": 1,
            "vip_churn_recency_score": 1,
            "vip_churn_frequency_score": 1,
            "vip_churn_spend_score": 1,
            "vip_churn_signal_score": 1,
            "vip_churn_signal_note": "all good",
            "vip_churn_level": "low",
            "vip_churn_high_since": self.today,
        }

    def test_protected_fields_are_listed(self):
        self.assertEqual(set(self._protected_vals()), MANAGER_FIELDS | ENGINE_FIELDS)

    def test_partner_tier_outcome_refused_to_employee_and_vip_user_in_write(self):
        # the defect: a pending downgrade date far away silently locks the tier
        before = self.customer.read(list(self._protected_vals()))[0]
        for user in (self.salesman, self.vip_user):
            for fname, value in self._protected_vals().items():
                with self.subTest(user=user.login, field=fname):
                    with self.assertRaises(AccessError):
                        self.customer.with_user(user).write({fname: value})
                    # a context key from the caller grants nothing either
                    with self.assertRaises(AccessError):
                        self.customer.with_user(user).with_context(
                            vip_engine=True, vip_tier_origin={"reason": "rule"}
                        ).write({fname: value})
        self.assertEqual(self.customer.read(list(self._protected_vals()))[0], before)
        # clearing a value is writing it too
        self.customer.sudo().vip_downgrade_date = self.today
        with self.assertRaises(AccessError):
            self.customer.with_user(self.vip_user).write({"vip_downgrade_date": False})
        self.assertEqual(self.customer.vip_downgrade_date, self.today)

    def test_partner_tier_outcome_refused_to_employee_and_vip_user_in_create(self):
        Partner = self.env["res.partner"]
        for user in (self.salesman, self.vip_user):
            for fname, value in self._protected_vals().items():
                with self.subTest(user=user.login, field=fname):
                    with self.assertRaises(AccessError):
                        Partner.with_user(user).create({"name": "Forged", fname: value})
        self.assertFalse(Partner.search([("name", "=", "Forged")]))

    def test_partner_tier_outcome_written_by_managers(self):
        vals = self._protected_vals()
        self.customer.with_user(self.vip_manager).write(vals)
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        self.assertEqual(self.customer.vip_churn_signal_note, "all good")
        created = (
            self.env["res.partner"]
            .with_user(self.vip_manager)
            .create({"name": "Set By Hand", "vip_tier_id": self.tier_c.id, "vip_spend": 5})
        )
        self.assertEqual(created.vip_tier_id, self.tier_c)

    def test_employee_edits_contacts_and_their_tier_follows_the_company(self):
        """What employees may do keeps working: edit a VIP customer, add a contact
        (Odoo copies the company's tier onto it)."""
        partner = self.customer.with_user(self.salesman)
        partner.write({"phone": "+86 21 5555 0199", "vip_preferred_channel": "email"})
        contact = (
            self.env["res.partner"]
            .with_user(self.salesman)
            .create({"name": "Assistant", "parent_id": self.customer.id})
        )
        self.assertEqual(contact.vip_tier_id, self.tier_b)
        # a contact cannot be given a tier of its own
        with self.assertRaises(AccessError):
            contact.write({"vip_tier_id": self.tier_a.id})

    def test_engine_still_writes_the_outcome(self):
        self._invoice(self.customer, 120000, days_ago=3)
        self._invoice(self.customer, 10000, days_ago=2)
        self.customer.with_user(self.vip_user).action_vip_recompute()
        self.assertEqual(self.customer.vip_tier_id, self.tier_a)
        self.assertEqual(self.customer.vip_spend, 130000)

    # ------------------------------------------------------------------
    # res.partner: who reads what
    # ------------------------------------------------------------------
    def test_portal_user_reads_no_internal_field_of_own_contact(self):
        partner = self.portal_partner.with_user(self.portal_user)
        self.assertEqual(partner.read(["name", "vip_tier_id"])[0]["vip_tier_id"][0], self.tier_b.id)
        for fname in VIP_USER_FIELDS + EMPLOYEE_FIELDS:
            with self.subTest(field=fname), self.assertRaises(AccessError):
                partner.read([fname])
        # nor guesses them with a search
        with self.assertRaises(AccessError):
            partner.search([("vip_churn_signal_note", "ilike", "competitor")])
        with self.assertRaises(AccessError):
            partner.search([("vip_churn_level", "=", "high")])
        # the fields they may read do not include them
        self.assertFalse(set(partner.fields_get()) & set(VIP_USER_FIELDS + EMPLOYEE_FIELDS))

    def test_employee_reads_profile_but_not_analytics_nor_confidential_notes(self):
        partner = self.portal_partner.with_user(self.salesman)
        self.assertEqual(partner.read(list(EMPLOYEE_FIELDS))[0]["vip_preferred_channel"], "phone")
        for fname in VIP_USER_FIELDS:
            with self.subTest(field=fname), self.assertRaises(AccessError):
                partner.read([fname])

    def test_vip_user_reads_everything(self):
        values = self.portal_partner.with_user(self.vip_user).read(
            list(VIP_USER_FIELDS + EMPLOYEE_FIELDS)
        )[0]
        self.assertEqual(values["vip_churn_signal_note"], "talks to competitor")
        self.assertEqual(values["vip_sensitive_note"], "difficult payer")

    def test_vip_user_records_follow_ups_and_notes(self):
        self.customer.with_user(self.vip_user).write(
            {"vip_last_followup_date": self.today, "vip_sensitive_note": "prefers tea"}
        )
        self.assertEqual(self.customer.vip_last_followup_date, self.today)
        with self.assertRaises(AccessError):
            self.customer.with_user(self.salesman).write({"vip_sensitive_note": "x"})

    def test_contact_views_open_for_every_internal_user(self):
        """The partner views hide what a user may not read instead of failing:
        the fields of each view are readable by the user it is built for."""
        for user in (self.salesman, self.vip_user, self.vip_manager):
            Partner = self.env["res.partner"].with_user(user)
            views = Partner.get_views(
                [(False, view) for view in ("form", "list", "kanban", "search")]
            )
            # the fields the client reads: those left in the arch built for the user
            fnames = sorted(
                {
                    node.get("name")
                    for view in views["views"].values()
                    for node in etree.fromstring(view["arch"]).iter("field")
                    if node.get("name", "").startswith("vip_")
                    and node.get("name") in Partner._fields
                }
            )
            with self.subTest(user=user.login):
                self.assertIn("vip_tier_id", fnames)
                self.assertEqual(
                    "vip_churn_level" in fnames, user.has_group("vip_customer.group_vip_user")
                )
                Partner.browse(self.customer.id).read(fnames)

    # ------------------------------------------------------------------
    # vip.tier
    # ------------------------------------------------------------------
    def test_tier_read_by_everyone_inside_and_the_portal(self):
        for user in (self.portal_user, self.salesman, self.vip_user, self.vip_manager):
            self.assertEqual(self.tier_a.with_user(user).name, "A")

    def test_tier_configured_by_managers_only(self):
        for user in (self.salesman, self.vip_user, self.portal_user):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.Tier.with_user(user).create({"name": "X", "code": "X", "level": 7})
                with self.assertRaises(AccessError):
                    self.tier_a.with_user(user).write({"min_spend": 1})
                with self.assertRaises(AccessError):
                    self.tier_c.with_user(user).unlink()
        tier = self.Tier.with_user(self.vip_manager).create({"name": "X", "code": "X", "level": 7})
        tier.with_user(self.vip_manager).min_spend = 500000
        tier.with_user(self.vip_manager).unlink()

    def test_tier_of_another_company_hidden(self):
        foreign = self.Tier.create(
            {"name": "Z", "code": "Z", "level": 1, "company_id": self.company_2.id}
        )
        with self.assertRaises(AccessError):
            foreign.with_user(self.vip_manager).read(["name"])
        self.assertNotIn(foreign, self.Tier.with_user(self.vip_manager).search([]))
        self.assertIn(foreign, self.Tier.with_user(self.other_manager).search([]))
        # a user of both companies sees both
        self.vip_manager.company_ids = [Command.link(self.company_2.id)]
        self.assertEqual(
            foreign.with_user(self.vip_manager)
            .with_context(allowed_company_ids=[self.company.id, self.company_2.id])
            .name,
            "Z",
        )

    # ------------------------------------------------------------------
    # vip.tier.history
    # ------------------------------------------------------------------
    def test_history_read_by_vip_users_only(self):
        self.assertEqual(self.history.with_user(self.vip_user).new_tier_id, self.tier_b)
        for user in (self.salesman, self.portal_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.history.with_user(user).read(["new_tier_id"])

    def test_history_created_by_nobody_by_hand(self):
        vals = {
            "partner_id": self.customer.id,
            "new_tier_id": self.tier_a.id,
            "direction": "upgrade",
            "reason": "rule",
            "user_id": self.env.ref("base.user_root").id,
        }
        for user in (self.vip_user, self.vip_manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["vip.tier.history"].with_user(user).create(vals)

    def test_history_written_and_deleted_by_nobody(self):
        for user in (self.vip_user, self.vip_manager):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    self.history.with_user(user).write({"reason": "rule"})
                with self.assertRaises(AccessError):
                    self.history.with_user(user).unlink()
        with self.assertRaises(UserError):
            self.history.sudo().write({"note": "rewritten"})

    def test_history_reason_and_author_come_from_the_server(self):
        """A manager writing a tier over RPC cannot make it look like the rules'
        (or someone else's) decision."""
        self.customer.with_user(self.vip_manager).with_context(
            vip_tier_reason="rule", vip_tier_note="by the rules", vip_tier_origin="rule"
        ).write({"vip_tier_id": self.tier_a.id})
        row = self.customer.vip_tier_history_ids[:1]
        self.assertEqual(row.new_tier_id, self.tier_a)
        self.assertEqual(row.reason, "manual")
        self.assertFalse(row.note)
        self.assertEqual(row.user_id, self.vip_manager)
        # the managers' wizard records its reason as the note
        wizard = (
            self.env["vip.tier.change"]
            .with_user(self.vip_manager)
            .create(
                {
                    "partner_ids": [Command.set(self.customer.ids)],
                    "tier_id": self.tier_c.id,
                    "reason": "Key account review",
                }
            )
        )
        wizard.action_apply()
        row = self.customer.vip_tier_history_ids[:1]
        self.assertEqual(
            (row.reason, row.note, row.user_id), ("manual", "Key account review", self.vip_manager)
        )

    # ------------------------------------------------------------------
    # vip.interest.tag, vip.pareto.report
    # ------------------------------------------------------------------

    def test_interest_tags_created_by_vip_users_deleted_by_managers(self):
        tag = self.env["vip.interest.tag"].with_user(self.vip_user).create({"name": "Falconry"})
        tag.with_user(self.vip_user).write({"name": "Falconry club"})
        with self.assertRaises(AccessError):
            tag.with_user(self.vip_user).unlink()
        with self.assertRaises(AccessError):
            self.env["vip.interest.tag"].with_user(self.salesman).create({"name": "Tea"})
        with self.assertRaises(AccessError):
            tag.with_user(self.portal_user).read(["name"])
        tag.with_user(self.vip_manager).unlink()

    def test_pareto_report_read_by_vip_users(self):
        self._invoice(self.customer, 60000, days_ago=2)
        self.recompute()
        report = self.env["vip.pareto.report"]
        self.assertTrue(
            report.with_user(self.vip_user).search([("partner_id", "=", self.customer.id)])
        )
        with self.assertRaises(AccessError):
            report.with_user(self.salesman).search([])

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def test_recompute_buttons(self):
        for user in (self.portal_user, self.salesman):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.customer.with_user(user).action_vip_recompute()
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.vip_user).action_vip_recompute_all()
        action = self.env["res.partner"].with_user(self.vip_manager).action_vip_recompute_all()
        self.assertEqual(action["tag"], "display_notification")

    def test_change_tier_and_unlock_are_for_managers(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.vip_user).action_vip_change_tier()
        with self.assertRaises(AccessError):
            self.customer.with_user(self.vip_user).action_vip_unlock()

    # ------------------------------------------------------------------
    # Wizards
    # ------------------------------------------------------------------
    def test_wizards_are_for_managers(self):
        for model in ("vip.tier.change", "vip.customer.import", "vip.customer.import.line"):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.env[model].with_user(self.vip_user).create({})

    def test_tier_change_wizard_private_to_its_creator(self):
        wizard = (
            self.env["vip.tier.change"]
            .with_user(self.vip_manager)
            .create(
                {
                    "partner_ids": [Command.set(self.customer.ids)],
                    "tier_id": self.tier_a.id,
                    "reason": "Board decision",
                }
            )
        )
        with self.assertRaises(AccessError):
            wizard.with_user(self.colleague_manager).read(["reason"])
        with self.assertRaises(AccessError):
            wizard.with_user(self.colleague_manager).action_apply()
        self.assertEqual(self.customer.vip_tier_id, self.tier_b)

    def _upload(self, user=None):
        wizard = (
            self.env["vip.customer.import"]
            .with_user(user or self.vip_manager)
            .create(
                {
                    "file": _xlsx([("Secret Co", "secret@example.com", "Owes us money")]),
                    "file_name": "secret.xlsx",
                }
            )
        )
        wizard.action_check()
        return wizard

    def test_customer_import_private_to_its_creator_and_company(self):
        wizard = self._upload()
        Wizard = self.env["vip.customer.import"]
        Line = self.env["vip.customer.import.line"]
        self.assertEqual(len(wizard.line_ids), 1)
        for user in (self.other_manager, self.colleague_manager):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    wizard.with_user(user).read(["file", "file_name"])
                with self.assertRaises(AccessError):
                    wizard.line_ids.with_user(user).read(["name"])
                self.assertFalse(Wizard.with_user(user).search([]))
                self.assertFalse(Line.with_user(user).search([]))
                with self.assertRaises(AccessError):
                    wizard.with_user(user).action_import()
        # the creator, working in another company only, does not see it there
        self.vip_manager.company_ids = [Command.link(self.company_2.id)]
        in_company_2 = Wizard.with_user(self.vip_manager).with_context(
            allowed_company_ids=[self.company_2.id]
        )
        self.assertFalse(in_company_2.search([]))
        # the creator does
        self.assertEqual(Wizard.with_user(self.vip_manager).search([]), wizard)
        self.assertEqual(wizard.with_user(self.vip_manager).file_name, "secret.xlsx")

    def _file_attachments(self, wizard):
        """The attachments holding the uploaded file of an import wizard."""
        return (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", wizard._name),
                    ("res_id", "=", wizard.id),
                    ("res_field", "=", "file"),
                ]
            )
        )

    def test_customer_import_file_removed_once_imported(self):
        wizard = self._upload()
        attachments = self._file_attachments(wizard)
        self.assertTrue(attachments)
        wizard.action_import()
        self.assertEqual(wizard.state, "importing")
        self.assertFalse(wizard.file)
        self.assertFalse(attachments.exists())
        # the job's copy of the rows goes when the job is over
        job_file = wizard.job_id.sudo().attachment_id
        self.assertTrue(job_file)
        self.env["vip.import.job"].sudo()._cron_process_jobs()
        self.assertEqual(wizard.state, "done")
        self.assertFalse(job_file.exists())

    def test_customer_import_file_removed_once_abandoned(self):
        wizard = self._upload()
        attachments = self._file_attachments(wizard)
        self.assertTrue(attachments)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE vip_customer_import SET create_date = create_date - interval '2 hours', "
            "write_date = write_date - interval '2 hours' WHERE id = %s",
            [wizard.id],
        )
        self.env["vip.customer.import"]._transient_vacuum()
        self.assertFalse(wizard.exists())
        self.assertFalse(attachments.exists())

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------
    def test_settings_written_by_administrators_only(self):
        for user in (self.vip_user, self.vip_manager):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.company.with_user(user).write({"vip_window_months": 6})
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.vip_manager).create(
                {"vip_window_months": 6}
            )
        self.assertEqual(self.company.vip_window_months, 12)
        with self.assertRaises(AccessError):
            self.company.with_user(self.portal_user).read(["vip_churn_high_threshold"])
