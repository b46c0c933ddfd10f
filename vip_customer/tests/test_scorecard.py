"""Account-manager scorecards (``vip.manager.scorecard``), on a hand-made program.

March 2026, company of the fixtures, two account managers:

=========  ==========================================  =========================
manager    customers (facts of March)                   follow-ups due in March
=========  ==========================================  =========================
vip_user   Lotus: kept, bought; satisfaction 90;        on 10th done on the 9th;
           spend 1,000 (prev 800)                       on 15th (on a contact of
           Peony: lost, no purchase; spend 0 (prev 500)  Lotus) done on the 18th;
           Orchid: new VIP; 2 tickets, 1 complaint,     on 20th never done
           SLA 50%; spend 300 (prev 0)
other      Jade: kept, bought; satisfaction 60;         on 12th done on the 12th
           spend 500 (prev 1,000)
=========  ==========================================  =========================

By hand, with the default weights (retention 25, renewal 20, satisfaction 20,
follow-ups 15, SLA 10, growth 10):

- vip_user: retention 50, renewal 50, satisfaction 90, follow-ups 1 of 3
  settled on time = 33.33, SLA 50, growth 0% -> 50;
  score = (25*50 + 20*50 + 20*90 + 15*33.33 + 10*50 + 10*50) / 100 = 55.5.
- other: retention 100, renewal 100, satisfaction 60, follow-ups 100, no SLA
  (left out), growth -50% -> 25;
  score = (25*100 + 20*100 + 20*60 + 15*100 + 10*25) / 90 = 82.78 (counting the
  missing SLA as 0 would give 74.5).
"""

import ast
import importlib.util
from contextlib import contextmanager
from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL
from odoo.tools.misc import file_path

from odoo.addons.base.controllers.rpc import dumps as xmlrpc_dumps

from .common import VipCustomerCommon

MARCH = date(2026, 3, 1)
TODAY = "2026-05-10"


@tagged("post_install", "-at_install")
class TestScorecard(VipCustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Card = cls.env["vip.manager.scorecard"]
        cls.followup_type = cls.env.ref("vip_customer.mail_activity_type_vip_followup")
        cls.other_manager = new_test_user(
            cls.env,
            login="vip_customer-other-am",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        Partner = cls.env["res.partner"]
        cls.lotus, cls.peony, cls.orchid, cls.jade, cls.unmanaged = Partner.create(
            [
                {"name": name, "is_company": True, "vip_account_manager_id": manager.id}
                for name, manager in (
                    ("Lotus", cls.vip_user),
                    ("Peony", cls.vip_user),
                    ("Orchid", cls.vip_user),
                    ("Jade", cls.other_manager),
                    ("Iris", cls.env["res.users"]),
                )
            ]
        )
        cls.lotus_contact = Partner.create({"name": "Mei (Lotus)", "parent_id": cls.lotus.id})
        customers = cls.lotus | cls.peony | cls.orchid | cls.jade | cls.unmanaged
        customers.sudo().with_context(vip_engine=True).write({"vip_company_id": cls.company.id})

        def fact(partner, manager, **vals):
            return {
                "company_id": cls.company.id,
                "period_type": "month",
                "date_start": MARCH,
                "date_end": date(2026, 3, 31),
                "partner_id": partner.id if partner else False,
                "manager_id": manager.id if manager else False,
                "customer_count": 1,
                **vals,
            }

        cls.env["vip.kpi.fact"].sudo().with_context(vip_kpi_engine=True).create(
            [
                fact(
                    cls.lotus,
                    cls.vip_user,
                    retention_pct=100,
                    renewal_pct=100,
                    satisfaction=90,
                    satisfaction_count=1,
                    spend=1000,
                    prev_spend=800,
                    purchase_count=2,
                ),
                fact(
                    cls.peony, cls.vip_user, retention_pct=0, renewal_pct=0, spend=0, prev_spend=500
                ),
                fact(
                    cls.orchid,
                    cls.vip_user,
                    spend=300,
                    prev_spend=0,
                    purchase_count=1,
                    ticket_count=2,
                    complaint_count=1,
                    sla_pct=50,
                ),
                fact(
                    cls.jade,
                    cls.other_manager,
                    retention_pct=100,
                    renewal_pct=100,
                    satisfaction=60,
                    satisfaction_count=1,
                    spend=500,
                    prev_spend=1000,
                    purchase_count=1,
                ),
                # no account manager: no card
                fact(cls.unmanaged, False, retention_pct=0, renewal_pct=0, spend=9999),
                # the non-VIP bucket row
                fact(False, False, customer_count=40, spend=12345),
                # another period: not in March's cards
                dict(
                    fact(cls.lotus, cls.vip_user, retention_pct=0, spend=7),
                    date_start=date(2026, 2, 1),
                    date_end=date(2026, 2, 28),
                ),
            ]
        )
        Activity = cls.env["mail.activity"].with_context(mail_activity_quick_update=True)

        def followup(partner, user, deadline, activity_type=None):
            return Activity.create(
                {
                    "activity_type_id": (activity_type or cls.followup_type).id,
                    "res_model_id": cls.env["ir.model"]._get_id("res.partner"),
                    "res_id": partner.id,
                    "user_id": user.id,
                    "date_deadline": deadline,
                }
            )

        on_time = followup(cls.lotus, cls.vip_user, date(2026, 3, 10))
        cls.late = late = followup(cls.lotus_contact, cls.vip_user, date(2026, 3, 15))
        followup(cls.peony, cls.vip_user, date(2026, 3, 20))  # never done
        jade_on_time = followup(cls.jade, cls.other_manager, date(2026, 3, 12))
        # not counted: due in April, another activity type
        followup(cls.orchid, cls.vip_user, date(2026, 4, 2))
        followup(
            cls.orchid,
            cls.vip_user,
            date(2026, 3, 5),
            cls.env.ref("vip_customer.mail_activity_type_vip_retention"),
        )
        with freeze_time("2026-03-09 10:00:00"):
            on_time.action_done()
            cls.env.flush_all()  # date_done is computed at the flush
        with freeze_time("2026-03-18 10:00:00"):
            late.action_done()
            cls.env.flush_all()  # date_done is computed at the flush
        with freeze_time("2026-03-12 10:00:00"):
            jade_on_time.action_done()
            cls.env.flush_all()  # date_done is computed at the flush

    @contextmanager
    def refused(self):
        """A follow-up change refused for not being a VIP manager (rolled back)."""
        with self.assertRaises(UserError) as catcher:
            yield
        self.assertIn("only VIP managers", str(catcher.exception))

    def followup_vals(self, partner, user, deadline):
        return {
            "activity_type_id": self.followup_type.id,
            "res_model_id": self.env["ir.model"]._get_id("res.partner"),
            "res_id": partner.id,
            "user_id": user.id,
            "date_deadline": deadline,
        }

    def compute(self):
        with freeze_time(TODAY):
            self.Card._compute_period(self.company, "month", MARCH)
        return self.Card.search([("company_id", "=", self.company.id), ("date_start", "=", MARCH)])

    def card_of(self, cards, user):
        card = cards.filtered(lambda c: c.user_id == user)
        self.assertEqual(len(card), 1)
        return card

    def test_done_followups_stay_archived_with_their_date(self):
        done = (
            self.env["mail.activity"]
            .with_context(active_test=False)
            .search(
                [("res_id", "=", self.jade.id), ("activity_type_id", "=", self.followup_type.id)]
            )
        )
        self.assertTrue(self.followup_type.keep_done)
        self.assertFalse(done.active)
        self.assertEqual(done.date_done, date(2026, 3, 12))

    def test_existing_databases_keep_done_followups_after_the_upgrade(self):
        self.followup_type.keep_done = False
        path = file_path("vip_customer/migrations/18.0.1.1.0/post-migration.py")
        spec = importlib.util.spec_from_file_location("vip_customer_post_migration", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.assertTrue(self.followup_type.keep_done)

    def test_exact_figures(self):
        cards = self.compute()
        self.assertEqual(cards.user_id, self.vip_user | self.other_manager)
        mine = self.card_of(cards, self.vip_user)
        self.assertEqual(mine.period_name, "2026-03")
        self.assertEqual(mine.date_end, date(2026, 3, 31))
        self.assertEqual(mine.customer_count, 3)
        self.assertEqual(
            (mine.followup_due_count, mine.followup_on_time_count, mine.followup_overdue_count),
            (3, 1, 2),
        )
        self.assertAlmostEqual(mine.followup_rate, 100 / 3, places=4)
        self.assertEqual((mine.retention_rate, mine.renewal_rate), (50, 50))
        self.assertEqual(mine.satisfaction, 90)
        self.assertEqual((mine.ticket_count, mine.complaint_count, mine.sla_rate), (2, 1, 50))
        self.assertEqual((mine.spend, mine.prev_spend, mine.spend_growth), (1300, 1300, 0))
        self.assertAlmostEqual(mine.score, 55.5, places=4)

        other = self.card_of(cards, self.other_manager)
        self.assertEqual(other.customer_count, 1)
        self.assertEqual(
            (other.followup_due_count, other.followup_on_time_count, other.followup_overdue_count),
            (1, 1, 0),
        )
        self.assertEqual(other.followup_rate, 100)
        self.assertEqual(other.spend_growth, -50)
        # the missing SLA is left out of the mean, not counted as 0 (74.5)
        self.assertAlmostEqual(other.score, 7450 / 90, places=4)
        self.assertEqual((other.rank, mine.rank), (1, 2))
        self.assertIn("SLA: no data", other.score_detail)
        self.assertIn("SLA: 50 × 10", mine.score_detail)
        # the pivot's average leaves out the card without data, as it does for the facts
        [(sla_rate,)] = self.Card._read_group(
            [("id", "in", cards.ids)], aggregates=["sla_rate:avg"]
        )
        self.assertEqual(sla_rate, 50)

    def test_a_card_of_a_running_period_is_in_progress(self):
        """March computed on May 10th is over; computed on March 20th it is in
        progress (the form says so, the list has a column for it)."""
        self.assertEqual(set(self.compute().mapped("is_partial")), {False})
        with freeze_time("2026-03-20"):
            self.Card._compute_period(self.company, "month", MARCH)
        cards = self.Card.search([("company_id", "=", self.company.id), ("date_start", "=", MARCH)])
        self.assertEqual(set(cards.mapped("is_partial")), {True})
        # the search's Ended Periods filter leaves them out
        search = self.Card.get_views([(False, "search")])["views"]["search"]["arch"]
        [node] = etree.fromstring(search).xpath("//filter[@name='ended']")
        ended = ast.literal_eval(node.get("domain")) + [("id", "in", cards.ids)]
        self.assertFalse(self.Card.search(ended))

    def test_a_figure_without_data_reads_as_no_data(self):
        """The other manager has no ticket with an SLA: the card says "no data"
        there (the list leaves the cell empty) instead of "0.00", which would read
        as every deadline missed; figures with data, a real 0 included, show."""
        cards = self.compute()
        mine = self.card_of(cards, self.vip_user)
        other = self.card_of(cards, self.other_manager)
        self.assertEqual(other.sla_rate, 0.0)  # the ORM reads the NULL as 0
        self.assertFalse(other.has_sla_rate)
        self.assertTrue(mine.has_sla_rate)
        self.assertTrue(other.has_spend_growth)  # -50%: data
        self.assertTrue(mine.has_spend_growth)  # flat, 0%: data all the same
        for card in (mine, other):
            for flag, column in card._FIGURE_PRESENCE.items():
                self.env.cr.execute(
                    SQL("SELECT %s IS NOT NULL FROM vip_manager_scorecard WHERE id = %s",
                        SQL.identifier(column), card.id)
                )
                self.assertEqual(card[flag], self.env.cr.fetchone()[0], (card.user_id.name, flag))
        # the account manager reading their own card gets the same answer (over RPC too)
        other.invalidate_recordset()
        [read] = other.with_user(self.other_manager).read(["has_sla_rate", "has_spend_growth"])
        self.assertEqual((read["has_sla_rate"], read["has_spend_growth"]), (False, True))
        # every such figure of the list and the form is shown only with data
        self.assert_figures_shown_with_data_only("vip.manager.scorecard")

    def test_cards_marshal_over_xmlrpc(self):
        """A default read (every field) of cards with figures without data
        goes through the XML-RPC marshaller (no None anywhere)."""
        cards = self.compute()
        other = self.card_of(cards, self.other_manager)
        for result in (
            self.Card.search_read([]),
            self.Card.search_read([], limit=1),
            other.read(),
            other.with_user(self.other_manager).read(),
            self.Card.with_user(self.vip_manager).search_read([("id", "in", cards.ids)]),
            other.read(["score_components", "score_detail"]),
        ):
            self.assertTrue(result)
            xmlrpc_dumps((result,))
        # the component without data is absent, and still reads "no data"
        self.assertNotIn("sla", other.score_components["values"])
        self.assertIn("SLA: no data", other.score_detail)

    def test_score_inputs_are_not_grouped_or_searched(self):
        cards = self.compute()
        description = self.Card.fields_get(["score_components", "score_detail"])
        self.assertFalse(description["score_components"]["groupable"])
        self.assertFalse(description["score_components"]["searchable"])
        self.assertFalse(description["score_detail"]["searchable"])
        # still groupable by a real figure
        self.assertTrue(self.Card.fields_get(["user_id"])["user_id"]["groupable"])
        with self.assertRaisesRegex(UserError, "Score Inputs"):
            self.Card.read_group([], ["score:avg"], ["score_components"])
        with self.assertRaisesRegex(UserError, "Score Components"):
            self.Card.search_count([("score_detail", "ilike", "x")])
        self.assertEqual(len(self.Card.search([("id", "in", cards.ids)])), 2)

    def test_account_manager_cannot_rig_done_followups(self):
        """The measured cannot change what measures them: done follow-ups are
        for VIP managers to correct (the late one of the 15th, done on the 18th)."""
        late = self.late.with_user(self.vip_user).with_context(active_test=False)
        self.assertFalse(self.late.active)
        for vals in (
            {"date_done": date(2026, 3, 14)},
            {"date_deadline": date(2026, 3, 31)},
            {"active": True},
            {"summary": "rewritten"},
        ):
            with self.refused():
                late.write(vals)
        with self.refused():
            late.unlink()
        # an open follow-up's done date is set by "Mark Done", not by hand
        [open_one] = self.env["mail.activity"].search(
            [("res_id", "=", self.peony.id), ("activity_type_id", "=", self.followup_type.id)]
        )
        with self.refused():
            open_one.with_user(self.vip_user).write({"active": False, "date_done": "2026-03-19"})
        # nor created already done
        Activity = self.env["mail.activity"].with_user(self.vip_user)
        for extra in ({"active": False}, {"date_done": "2026-03-01"}):
            with self.refused():
                Activity.create(
                    {**self.followup_vals(self.lotus, self.vip_user, date(2026, 3, 2)), **extra}
                )
        # a done activity of another type cannot become a done follow-up
        todo = Activity.create(
            {
                **self.followup_vals(self.lotus, self.vip_user, date(2026, 3, 25)),
                "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
            }
        )
        todo.action_archive()
        with self.refused():
            todo.write({"activity_type_id": self.followup_type.id})
        self.assertEqual(
            (self.late.date_done, self.late.date_deadline), (date(2026, 3, 18), date(2026, 3, 15))
        )
        mine = self.card_of(self.compute(), self.vip_user)
        self.assertEqual((mine.followup_on_time_count, mine.followup_overdue_count), (1, 2))
        # a VIP manager corrects it
        manager_late = self.late.with_user(self.vip_manager)
        manager_late.write({"date_done": date(2026, 3, 14)})
        mine = self.card_of(self.compute(), self.vip_user)
        self.assertEqual((mine.followup_on_time_count, mine.followup_overdue_count), (2, 1))
        manager_late.unlink()
        self.assertFalse(self.late.exists())

    def test_account_manager_marks_own_followup_done(self):
        """The normal flow still works as an account manager: mark done and
        done with feedback; a new follow-up open."""
        Activity = self.env["mail.activity"].with_user(self.vip_user)
        first, second = Activity.create(
            [
                self.followup_vals(self.peony, self.vip_user, date(2026, 3, 25)),
                self.followup_vals(self.peony, self.vip_user, date(2026, 3, 26)),
            ]
        )
        with freeze_time("2026-03-24 10:00:00"):
            first.action_done()
            second.action_feedback(feedback="Called, all well")
            self.env.flush_all()
        self.assertEqual((first.active, first.date_done), (False, date(2026, 3, 24)))
        self.assertEqual((second.active, second.date_done), (False, date(2026, 3, 24)))
        mine = self.card_of(self.compute(), self.vip_user)
        self.assertEqual(
            (mine.followup_due_count, mine.followup_on_time_count, mine.followup_overdue_count),
            (5, 3, 2),
        )

    def test_followups_assigned_to_a_colleague_do_not_count(self):
        """Follow-ups assigned to someone who is not the customer's account
        manager count for nobody (sabotage of a colleague's card)."""
        colleague = new_test_user(
            self.env,
            login="vip_customer-colleague-am",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        # due in March, set up in February, never done: overdue by May
        with freeze_time("2026-02-20"):
            self.env["mail.activity"].with_user(self.vip_user).create(
                [self.followup_vals(self.jade, colleague, date(2026, 3, day)) for day in (1, 2, 3)]
            )
        cards = self.compute()
        self.assertFalse(cards.filtered(lambda c: c.user_id == colleague))
        other = self.card_of(cards, self.other_manager)
        self.assertEqual((other.followup_due_count, other.followup_overdue_count), (1, 0))
        # nor can a colleague give the customer's account manager overdue follow-ups
        Activity = self.env["mail.activity"].with_user(colleague)
        with freeze_time(TODAY), self.refused():
            Activity.create(self.followup_vals(self.jade, self.other_manager, date(2026, 3, 2)))
        with freeze_time(TODAY):
            upcoming = Activity.create(
                self.followup_vals(self.jade, self.other_manager, date(2026, 6, 2))
            )
            with self.refused():
                upcoming.write({"date_deadline": date(2026, 3, 3)})
            # their own follow-up, or a VIP manager: allowed
            Activity.create(self.followup_vals(self.jade, colleague, date(2026, 3, 4)))
            self.env["mail.activity"].with_user(self.vip_manager).create(
                self.followup_vals(self.jade, self.other_manager, date(2026, 3, 5))
            )
        other = self.card_of(self.compute(), self.other_manager)
        self.assertEqual((other.followup_due_count, other.followup_overdue_count), (2, 1))

    def test_recompute_replaces_the_cards(self):
        self.compute()
        cards = self.compute()
        self.assertEqual(len(cards), 2)

    def test_not_yet_due_followup_is_not_overdue(self):
        with freeze_time("2026-03-16"):
            self.Card._compute_period(self.company, "month", MARCH)
        mine = self.Card.search([("user_id", "=", self.vip_user.id), ("date_start", "=", MARCH)])
        # the follow-up of the 20th is still open and not due yet: neither on time nor overdue
        self.assertEqual(
            (mine.followup_due_count, mine.followup_on_time_count, mine.followup_overdue_count),
            (3, 1, 1),
        )
        self.assertEqual(mine.followup_rate, 50)

    def test_weights_change_score_and_ranking(self):
        self.company.write(
            {
                "vip_score_weight_retention": 0,
                "vip_score_weight_renewal": 0,
                "vip_score_weight_satisfaction": 50,
                "vip_score_weight_followup": 0,
                "vip_score_weight_sla": 0,
                "vip_score_weight_growth": 50,
            }
        )
        cards = self.compute()
        mine, other = self.card_of(cards, self.vip_user), self.card_of(cards, self.other_manager)
        self.assertAlmostEqual(mine.score, (50 * 90 + 50 * 50) / 100, places=4)
        self.assertAlmostEqual(other.score, (50 * 60 + 50 * 25) / 100, places=4)
        self.assertEqual((mine.rank, other.rank), (1, 2))

    def test_weights_are_validated(self):
        with self.assertRaises(ValidationError):
            self.company.vip_score_weight_sla = -1
        zero = dict.fromkeys(
            [
                "vip_score_weight_retention",
                "vip_score_weight_renewal",
                "vip_score_weight_satisfaction",
                "vip_score_weight_followup",
                "vip_score_weight_sla",
                "vip_score_weight_growth",
            ],
            0,
        )
        with self.assertRaises(ValidationError):
            self.company.write(zero)
        settings = self.env["res.config.settings"].create({"vip_score_weight_growth": 30})
        settings.execute()
        self.assertEqual(self.company.vip_score_weight_growth, 30)

    def test_account_manager_reads_only_own_card(self):
        cards = self.compute()
        other_card = self.card_of(cards, self.other_manager)
        as_user = self.Card.with_user(self.vip_user)
        self.assertEqual(as_user.search([]).user_id, self.vip_user)
        self.assertEqual(as_user.search_count([("user_id", "=", self.other_manager.id)]), 0)
        with self.assertRaises(AccessError):
            as_user.browse(other_card.id).read(["score"])
        # their own card's customers: the facts of their customers only
        action = self.card_of(cards, self.vip_user).with_user(self.vip_user).action_open_customers()
        facts = self.env["vip.kpi.fact"].with_user(self.vip_user).search(action["domain"])
        self.assertEqual(facts.partner_id, self.lotus | self.peony | self.orchid)
        # their own follow-ups, the done ones included
        action = self.card_of(cards, self.vip_user).with_user(self.vip_user).action_open_followups()
        activities = (
            self.env["mail.activity"]
            .with_user(self.vip_user)
            .with_context(active_test=False)
            .search(action["domain"])
        )
        self.assertEqual(len(activities), 3)

    def test_vip_manager_reads_all_cards_of_their_companies(self):
        cards = self.compute()
        self.assertEqual(self.Card.with_user(self.vip_manager).search([]), cards)
        other_company = self.env["res.company"].create({"name": "VIP Elsewhere"})
        foreign_manager = new_test_user(
            self.env,
            login="vip_customer-foreign-manager",
            groups="base.group_user,vip_customer.group_vip_manager",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(self.Card.with_user(foreign_manager).search([]))
        with self.assertRaises(AccessError):
            cards.with_user(foreign_manager).read(["score"])

    def test_nobody_writes_a_card(self):
        card = self.card_of(self.compute(), self.vip_user)
        vals = {
            "company_id": self.company.id,
            "period_type": "month",
            "date_start": date(2026, 1, 1),
            "user_id": self.vip_user.id,
            "score": 100,
        }
        for user in (self.vip_user, self.vip_manager):
            with self.assertRaises(AccessError):
                card.with_user(user).write({"score": 100})
            with self.assertRaises(AccessError):
                self.Card.with_user(user).create(vals)
            with self.assertRaises(AccessError):
                card.with_user(user).unlink()
        # not even an administrator, outside the engine
        with self.assertRaises(UserError):
            card.sudo().write({"score": 100})
        with self.assertRaises(UserError):
            self.Card.sudo().create(vals)
        with self.assertRaises(UserError):
            card.sudo().unlink()
        self.assertAlmostEqual(card.score, 55.5, places=4)


@tagged("post_install", "-at_install")
class TestScorecardFromEngine(VipCustomerCommon):
    """The cards the KPI engine writes after the facts, from tier history and
    invoices (February 2025): Alpha (vip_user's) C since December, bought 500
    in January and 1,000 in February; Gamma (other manager's) A since November,
    left VIP on 5 February, bought nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_manager = new_test_user(
            cls.env,
            login="vip_customer-other-am",
            groups="base.group_user,vip_customer.group_vip_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        Partner = cls.env["res.partner"]
        cls.alpha = Partner.create(
            {"name": "Alpha Ltd", "is_company": True, "vip_account_manager_id": cls.vip_user.id}
        )
        cls.gamma = Partner.create(
            {
                "name": "Gamma Ltd",
                "is_company": True,
                "vip_account_manager_id": cls.other_manager.id,
            }
        )
        cls.Engine._log_tier_changes(
            [
                {
                    "partner": partner,
                    "old_tier": old,
                    "new_tier": new,
                    "reason": "rule",
                    "date": day,
                }
                for partner, old, new, day in (
                    (cls.gamma, cls.Tier, cls.tier_a, date(2024, 11, 1)),
                    (cls.alpha, cls.Tier, cls.tier_c, date(2024, 12, 10)),
                    (cls.gamma, cls.tier_a, cls.Tier, date(2025, 2, 5)),
                )
            ]
        )
        for amount, day in ((500, date(2025, 1, 15)), (1000, date(2025, 2, 5))):
            cls._invoice(cls.alpha, amount, days_ago=(cls.today - day).days)

    def compute(self):
        self.env["vip.kpi.engine"]._compute_period(self.company, "month", date(2025, 2, 1))
        return self.env["vip.manager.scorecard"].search(
            [("company_id", "=", self.company.id), ("date_start", "=", date(2025, 2, 1))]
        )

    def test_engine_writes_the_cards(self):
        cards = self.compute()
        alpha_card = cards.filtered(lambda c: c.user_id == self.vip_user)
        gamma_card = cards.filtered(lambda c: c.user_id == self.other_manager)
        self.assertEqual(
            (alpha_card.customer_count, alpha_card.retention_rate, alpha_card.renewal_rate),
            (1, 100, 100),
        )
        self.assertEqual(
            (alpha_card.spend, alpha_card.prev_spend, alpha_card.spend_growth), (1000, 500, 100)
        )
        self.assertEqual(
            (gamma_card.customer_count, gamma_card.retention_rate, gamma_card.renewal_rate),
            (1, 0, 0),
        )
        # retention 100 x 25, renewal 100 x 20, growth +100% -> 100 x 10 (nothing else has data)
        self.assertAlmostEqual(alpha_card.score, 100, places=4)
        # retention 0 x 25, renewal 0 x 20; no spend in either period: no growth
        self.assertAlmostEqual(gamma_card.score, 0, places=4)
        self.assertEqual((alpha_card.rank, gamma_card.rank), (1, 2))

    def test_manager_change_credits_the_whole_period_to_the_new_manager(self):
        self.compute()
        self.gamma.vip_account_manager_id = self.vip_user
        cards = self.compute()
        self.assertEqual(cards.user_id, self.vip_user)
        self.assertEqual((cards.customer_count, cards.retention_rate), (2, 50))


@tagged("post_install", "-at_install")
class TestScorecardDemo(TransactionCase):
    def test_demo_database_has_ranked_cards_with_followups(self):
        if not self.env.ref("vip_customer.res_partner_vip_golden_dragon", raise_if_not_found=False):
            self.skipTest("no demo data")
        last_month = (fields.Date.today() - relativedelta(months=1)).replace(day=1)
        cards = self.env["vip.manager.scorecard"].search(
            [
                ("company_id", "=", self.env.ref("base.main_company").id),
                ("period_type", "=", "month"),
                ("date_start", "=", last_month),
            ]
        )
        self.assertGreaterEqual(len(cards), 2, "one card per demo account manager")
        self.assertEqual(cards.sorted("rank")[0].rank, 1)
        self.assertTrue(sum(cards.mapped("followup_on_time_count")))
        self.assertTrue(sum(cards.mapped("followup_overdue_count")))
        self.assertTrue(sum(cards.mapped("customer_count")))
