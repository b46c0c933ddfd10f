from datetime import date, timedelta

from freezegun import freeze_time
from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import safe_eval

from ..tools.vip_rules import AT_RISK_LEVEL
from .common import VipCustomerCommon

TODAY = date(2025, 6, 15)


@tagged("post_install", "-at_install")
class TestDefinitions(VipCustomerCommon):
    """"Follow-up due" and "at risk" have one definition each: the field, its
    search, the search view's filter and the crons agree."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # next follow-up = tier since + 90 days (tier A's cadence)
        cls.cadences = cls._create_cadences()
        cls.partners = cls.env["res.partner"].create(
            [
                {"name": name, "is_company": True, "user_id": cls.vip_user.id}
                for name in ("Past", "Yesterday", "Today", "Tomorrow", "In a week", "Next month")
            ]
        )
        cls.partners.write({"vip_tier_id": cls.tier_a.id})
        for partner, days in zip(cls.partners, (-30, -1, 0, 1, 7, 30), strict=True):
            partner.write({"vip_tier_since": TODAY + timedelta(days=days - 90)})
        cls.partners[:3].sudo().with_context(vip_engine=True).write(
            {"vip_churn_level": AT_RISK_LEVEL}
        )
        cls.partners[3].sudo().with_context(vip_engine=True).write({"vip_churn_level": "medium"})

    def _filter_domain(self, name):
        arch = self.env.ref("vip_customer.res_partner_view_search").arch
        node = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")[0]
        context = {
            "context_today": safe_datetime.datetime.now,
            "uid": self.env.uid,
            "datetime": safe_datetime,
        }
        return safe_eval(node.get("domain"), context)

    def _search(self, domain):
        return self.env["res.partner"].search([("id", "in", self.partners.ids), *domain])

    @freeze_time(TODAY)
    def test_followup_due(self):
        expected = self.partners[:3]  # past, yesterday, today
        Partner = self.env["res.partner"]
        self.assertEqual(self._search(Partner._vip_followup_due_domain()), expected)
        self.assertEqual(self._search([("vip_followup_due", "=", True)]), expected)
        self.assertEqual(
            self._search([("vip_followup_due", "=", False)]), self.partners - expected
        )
        self.assertEqual(self._search(self._filter_domain("vip_followup_due")), expected)
        self.partners.invalidate_recordset(["vip_followup_due"])
        self.assertEqual(self.partners.filtered("vip_followup_due"), expected)
        overdue = self.partners[:2]
        self.assertEqual(self._search(self._filter_domain("vip_followup_overdue")), overdue)
        self.assertEqual(self.partners.filtered("vip_followup_overdue"), overdue)
        # the cadence's tasks: the ones due by today plus its days ahead
        engine = self.env["vip.moment.engine"]
        visit_a = self.cadences[0]
        visit_a.lead_days = 0
        selected = {row[0] for row in engine._select(visit_a, TODAY, self.partners.ids)}
        self.assertEqual(selected, set(expected.ids))
        visit_a.lead_days = 7
        selected = {row[0] for row in engine._select(visit_a, TODAY, self.partners.ids)}
        self.assertEqual(selected, set(self.partners[:5].ids))

    def test_at_risk(self):
        expected = self.partners[:3]
        Partner = self.env["res.partner"]
        self.assertEqual(self._search(Partner._vip_at_risk_domain()), expected)
        self.assertEqual(self._search([("vip_at_risk", "=", True)]), expected)
        self.assertEqual(self._search([("vip_at_risk", "!=", True)]), self.partners - expected)
        self.assertEqual(self._search(self._filter_domain("vip_at_risk")), expected)
        self.assertEqual(self.partners.filtered("vip_at_risk"), expected)
