from odoo import api, models

# built-in key-moment rule of vip_loyalty (vip.moment.rule.builtin_code)
POINTS_EXPIRING_CODE = "points_expiring"


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model
    def _vip_get_builtin_moment_rules_vals(self):
        """The former expiry-warning cron as a built-in rule: an e-mail listing the
        points that expire within 30 days, once per lot; no task (a manager may add
        one)."""
        template = self.env.ref(
            "vip_loyalty.mail_template_points_expiry_warning", raise_if_not_found=False
        )
        return [
            *super()._vip_get_builtin_moment_rules_vals(),
            {
                "builtin_code": POINTS_EXPIRING_CODE,
                "name": self.env._("Points expiring"),
                "sequence": 60,
                "trigger_type": "points_expiring",
                "within_days": 30,
                # every member of the loyalty program, as the former warning cron
                "include_non_vip": True,
                "create_activity": False,
                "activity_summary": self.env._("Points expire soon: remind the customer"),
                "deadline_days": 3,
                # a key-moment template is one for contacts (before the upgrade
                # of this add-on, the record still has the former model)
                "mail_template_id": template.id
                if template and template.model == "res.partner"
                else False,
            },
        ]
