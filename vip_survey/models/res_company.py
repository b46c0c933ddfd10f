from odoo import api, models

# built-in key-moment rules of vip_survey (vip.moment.rule.builtin_code)
NPS_PASSIVE_CODE = "nps_passive"
NPS_DETRACTOR_CODE = "nps_detractor"


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _vip_get_builtin_moment_rules_vals(self):
        """The former passive follow-up as a built-in rule (a call of the account
        manager within a week), and a detractor call, archived: a detractor already
        gets a recovery ticket assigned to the account manager, a task on top would
        ask for the same call twice (switch it on to add one, e.g. for campaigns
        without recovery tickets)."""
        followup = self.env.ref(
            "vip_survey.mail_activity_type_vip_nps_followup", raise_if_not_found=False
        )
        return [
            *super()._vip_get_builtin_moment_rules_vals(),
            {
                "builtin_code": NPS_PASSIVE_CODE,
                "name": self.env._("Passive answer: follow-up call"),
                "sequence": 70,
                "trigger_type": "nps_passive",
                "activity_type_id": followup.id if followup else False,
                "activity_summary": self.env._(
                    "Passive customer: ask what would make them recommend us"
                ),
                "deadline_days": 7,
            },
            {
                "builtin_code": NPS_DETRACTOR_CODE,
                "name": self.env._("Detractor answer: account manager call"),
                "sequence": 71,
                "trigger_type": "nps_detractor",
                "activity_type_id": followup.id if followup else False,
                "activity_summary": self.env._(
                    "Detractor: call the customer about their recovery ticket"
                ),
                "deadline_days": 2,
                "active": False,
            },
        ]
