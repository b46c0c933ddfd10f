from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

# built-in key-moment rules of vip_customer (vip.moment.rule.builtin_code)
CHURN_RETENTION_CODE = "churn_retention"
MINIMUM_CADENCE_CODE = "cadence_minimum"
# The nightly tier run's state on the company: written by the engine only.
ENGINE_STATE = frozenset(
    {
        "vip_recompute_cursor",
        "vip_recompute_date",
        "vip_recompute_full",
        "vip_recompute_run_full",
        "vip_recompute_pending",
    }
)
# The company settings the tier rules read: a change means a full tier run.
FULL_RUN_SETTINGS = frozenset(
    {
        "vip_window_months",
        "vip_spend_basis",
        "vip_churn_medium_threshold",
        "vip_churn_high_threshold",
    }
)


class ResCompany(models.Model):
    _name = "res.company"
    _inherit = ["res.company", "vip.bounds.mixin"]

    vip_window_months = fields.Integer(
        string="VIP Metrics Window (months)",
        default=12,
        help="Rolling window of the spend and purchase metrics shown on customers "
        "and compared with the previous window for churn risk.",
        groups="base.group_user",
    )
    vip_spend_basis = fields.Selection(
        [("untaxed", "Untaxed amount"), ("total", "Total amount")],
        string="VIP Spend Basis",
        default="untaxed",
        required=True,
        groups="base.group_user",
    )
    vip_churn_medium_threshold = fields.Integer(
        string="Churn Risk: Medium From", default=40, groups="base.group_user"
    )
    vip_churn_high_threshold = fields.Integer(
        string="Churn Risk: High From", default=70, groups="base.group_user"
    )
    vip_followup_minimum = fields.Boolean(
        string="Quarterly Contact for Every VIP",
        compute="_compute_vip_followup_minimum",
        inverse="_inverse_vip_followup_minimum",
        help="Every VIP customer gets a follow-up at least every 90 days (the built-in "
        'key moment "Quarterly contact"), unless a cadence of their tier already '
        "contacts them as often.",
        groups="base.group_user",
    )
    # Keyset cursor of the nightly tier run (one batch per cron call, see
    # vip_tier_engine_cron.py): the day of the run and the commercial partner
    # id evaluated last (0 once that day's run is complete), so each call goes
    # on where the previous one stopped.
    vip_recompute_cursor = fields.Integer(copy=False, groups="base.group_user")
    vip_recompute_date = fields.Date(
        string="Last VIP Tier Run", copy=False, groups="base.group_user"
    )
    # Incremental nights (vip_tier_engine_cron.py): the next run evaluates every
    # customer (the tiers or the settings the rules read changed, "Re-evaluate
    # All Now", a new company), and whether the run in progress does.
    vip_recompute_full = fields.Boolean(
        string="Full VIP Tier Run Requested", default=True, copy=False, groups="base.group_user"
    )
    vip_recompute_run_full = fields.Boolean(
        string="Full VIP Tier Run In Progress", copy=False, groups="base.group_user"
    )
    # The customers the run in progress has yet to evaluate, counted once per run
    # (empty until then) and lowered by each batch: the cron's progress.
    vip_recompute_pending = fields.Integer(copy=False, groups="base.group_user")

    # Program KPI targets (see vip.kpi.period): a rate at or above its target is on target.
    vip_target_retention = fields.Float(
        string="Retention Target (%)",
        default=90.0,
        help="Share of the VIP customers at the start of a period still VIP at its end.",
        groups="base.group_user",
    )
    vip_target_renewal = fields.Float(
        string="Renewal Target (%)",
        default=90.0,
        help="Share of the VIP customers at the start of a period who buy again in it.",
        groups="base.group_user",
    )
    vip_target_repeat = fields.Float(
        string="Repeat Purchase Target (%)",
        default=50.0,
        help="Share of the VIP customers who bought in a period who bought twice or more.",
        groups="base.group_user",
    )
    vip_target_satisfaction = fields.Float(
        string="Satisfaction Target", default=85.0, groups="base.group_user"
    )
    vip_target_nps = fields.Float(string="NPS Target", default=0.0, groups="base.group_user")
    vip_kpi_retention_tier_id = fields.Many2one(
        "vip.tier",
        string="Retention From Tier",
        help="Retention counts the customers at or above this tier at the start of a period "
        "who are still at or above it at the end. Empty: any VIP tier.",
        domain="[('company_id', '=', id)]",
        groups="base.group_user",
    )
    # State of the KPI cron (see vip_kpi_engine.py): the day the current
    # periods were last computed, and the start of the next past month to
    # recompute when a history recomputation was asked for (empty: none).
    vip_kpi_date = fields.Date(string="Last KPI Run", copy=False, groups="base.group_user")
    vip_kpi_history_cursor = fields.Date(copy=False, groups="base.group_user")

    def write(self, vals):
        if ENGINE_STATE & vals.keys() and not self.env.su:
            # the nightly run's own state: a night skipped or a requested full
            # night cancelled by hand would go unnoticed ("Re-evaluate All Now"
            # is the way to ask for a full night)
            raise AccessError(
                self.env._(
                    "%(fields)s: kept by the nightly tier run, it cannot be set by hand.",
                    fields=", ".join(
                        sorted(
                            self._fields[name]._description_string(self.env)
                            for name in ENGINE_STATE & vals.keys()
                        )
                    ),
                )
            )
        keys = FULL_RUN_SETTINGS & vals.keys()
        if not keys:
            return super().write(vals)
        before = {company: [company[key] for key in sorted(keys)] for company in self}
        result = super().write(vals)
        # what every customer is judged by changed (saving the settings rewrites
        # the same values: not a change): the next night evaluates every customer
        self.filtered(
            lambda company: before[company] != [company[key] for key in sorted(keys)]
        )._vip_request_full_run()
        return result

    def _vip_request_full_run(self):
        """Have the next nightly tier run of these companies evaluate every
        customer (the engine's own flag, see vip_tier_engine_cron.py)."""
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_company SET vip_recompute_full = TRUE WHERE id = ANY(%s)",
                    list(self.ids),
                )
            )
            self.invalidate_recordset(["vip_recompute_full"])

    @api.model
    def _get_vip_bounds(self):
        return {
            "vip_window_months": (1, 120),
            "vip_churn_medium_threshold": (1, 100),
            "vip_churn_high_threshold": (1, 100),
            "vip_target_retention": (0, 100),
            "vip_target_renewal": (0, 100),
            "vip_target_repeat": (0, 100),
            "vip_target_satisfaction": (0, 100),
            "vip_target_nps": (-100, 100),
        }

    @api.constrains(
        "vip_window_months",
        "vip_churn_medium_threshold",
        "vip_churn_high_threshold",
    )
    def _check_vip_settings(self):
        for company in self:
            if company.vip_window_months < 1:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the VIP metrics window must be at least one month.",
                        company=company.name,
                    )
                )
            if not (
                0 < company.vip_churn_medium_threshold < company.vip_churn_high_threshold <= 100
            ):
                raise ValidationError(
                    self.env._(
                        "%(company)s: churn risk levels must satisfy 0 < medium < high <= 100.",
                        company=company.name,
                    )
                )

    @api.constrains("vip_kpi_retention_tier_id")
    def _check_vip_kpi_retention_tier_id(self):
        for company in self:
            tier = company.vip_kpi_retention_tier_id
            if tier and tier.company_id != company:
                raise ValidationError(
                    self.env._(
                        "%(company)s: the retention tier %(tier)s belongs to another company.",
                        company=company.name,
                        tier=tier.display_name,
                    )
                )

    # ------------------------------------------------------------------
    # Built-in key moments (one set per company)
    # ------------------------------------------------------------------
    def _compute_vip_followup_minimum(self):
        # sudo: the setting shows whether the company's built-in rule runs
        rules = self._vip_get_builtin_moment_rules(MINIMUM_CADENCE_CODE)
        for company in self:
            company.vip_followup_minimum = bool(
                rules.filtered(lambda r, c=company: r.company_id == c and r.active)
            )

    def _inverse_vip_followup_minimum(self):
        missing = self.filtered(
            lambda c: (
                c.vip_followup_minimum
                and not self._vip_get_builtin_moment_rules(MINIMUM_CADENCE_CODE).filtered(
                    lambda r, c=c: r.company_id == c
                )
            )
        )
        missing._vip_create_builtin_moment_rules()
        rules = self._vip_get_builtin_moment_rules(MINIMUM_CADENCE_CODE)
        for company in self:
            rule = rules.filtered(lambda r, c=company: r.company_id == c)
            if rule and rule.active != company.vip_followup_minimum:
                # sudo: whoever may write the company's settings switches its built-in rule
                rule.sudo().active = company.vip_followup_minimum

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._vip_create_builtin_moment_rules()
        return companies

    def _vip_get_builtin_moment_rules(self, code=None):
        """The built-in key-moment rules of these companies (archived ones too)."""
        domain = [("company_id", "in", self.ids), ("builtin", "=", True)]
        if code:
            domain.append(("builtin_code", "=", code))
        # sudo: built-in rules are looked up whoever reads the company
        return self.env["vip.moment.rule"].sudo().with_context(active_test=False).search(domain)

    def _vip_get_builtin_moment_rules_vals(self):
        """Hook: the built-in key-moment rules of this company, as a list of
        ``vip.moment.rule`` values. Other add-ons extend the list with
        ``super()``.

        ``company_id`` and ``builtin`` are set by the creator
        (:meth:`_vip_create_builtin_moment_rules`); ``builtin_code`` names the
        rule (default: its trigger type) so it is created once per company.
        Texts are given in the language of the context: the rules are created
        in English and translated into every installed language by calling
        this hook again in that language.
        """
        followup = self.env.ref(
            "vip_customer.mail_activity_type_vip_followup", raise_if_not_found=False
        )
        retention = self.env.ref(
            "vip_customer.mail_activity_type_vip_retention", raise_if_not_found=False
        )
        return [
            {
                "builtin_code": CHURN_RETENTION_CODE,
                "name": self.env._("Churn risk: retention call"),
                "sequence": 20,
                "trigger_type": "churn_high",
                "activity_type_id": retention.id if retention else False,
                "activity_summary": self.env._("Churn risk is high: call the customer"),
                "deadline_days": 3,
            },
            {
                "builtin_code": MINIMUM_CADENCE_CODE,
                "name": self.env._("Quarterly contact"),
                "sequence": 90,
                "trigger_type": "cadence",
                "interval_days": 90,
                "activity_type_id": followup.id if followup else False,
                "activity_summary": self.env._("Follow-up: at least one contact a quarter"),
                # switched on in the settings (vip_followup_minimum)
                "active": False,
            },
        ]

    @api.model
    def _vip_create_all_builtin_moment_rules(self):
        """Install and upgrade: the built-in rules of every company."""
        # every company (a handful): each gets its built-in rules
        self.sudo().search([])._vip_create_builtin_moment_rules()  # pylint: disable=no-search-all
        return True

    @api.model
    def _vip_builtin_code(self, vals):
        return vals.get("builtin_code") or vals["trigger_type"]

    def _vip_create_builtin_moment_rules(self):
        """Create the built-in key-moment rules these companies do not have yet.

        A company has a built-in rule when one of its built-in rules (archived
        ones too: archived on purpose) carries its ``builtin_code``, or, for a
        record of a data file without one, its trigger type. Idempotent.

        :return: the rules created
        """
        Rule = self.env["vip.moment.rule"].sudo().with_context(active_test=False, lang="en_US")
        existing = {
            (rule.company_id.id, rule.builtin_code or rule.trigger_type)
            for rule in self._vip_get_builtin_moment_rules()
        }
        langs = [code for code, _name in self.env["res.lang"].get_installed() if code != "en_US"]
        translatable = [fname for fname, field in Rule._fields.items() if field.translate]
        created = Rule
        for company in self.sudo():
            vals_list = [
                dict(
                    vals,
                    company_id=company.id,
                    builtin=True,
                    builtin_code=self._vip_builtin_code(vals),
                )
                for vals in company.with_context(lang="en_US")._vip_get_builtin_moment_rules_vals()
                if (company.id, self._vip_builtin_code(vals)) not in existing
            ]
            if not vals_list:
                continue
            # sudo: built-in rules are the program's own records, created for every company
            rules = Rule.create(vals_list)
            created |= rules
            by_code = {rule.builtin_code: rule for rule in rules}
            for lang in langs:
                for vals in company.with_context(lang=lang)._vip_get_builtin_moment_rules_vals():
                    rule = by_code.get(self._vip_builtin_code(vals))
                    for fname in translatable if rule else ():
                        value = vals.get(fname)
                        if isinstance(value, str) and value and value != rule[fname]:
                            rule.update_field_translations(fname, {lang: value})
        return created

    def _vip_translate_builtin_moment_rules(self, langs):
        """Give the built-in key-moment rules of these companies their texts in
        ``langs`` (a language installed after the rules were created: their names
        came from the code in the languages installed then). Only texts still as
        shipped in English are translated: a name an admin changed stays."""
        Rule = self.env["vip.moment.rule"].sudo().with_context(active_test=False, lang="en_US")
        translatable = [fname for fname, field in Rule._fields.items() if field.translate]
        for company in self.sudo():
            rules = {
                rule.builtin_code: rule
                for rule in company._vip_get_builtin_moment_rules()
                if rule.builtin_code
            }
            english = {
                self._vip_builtin_code(vals): vals
                for vals in company.with_context(lang="en_US")._vip_get_builtin_moment_rules_vals()
            }
            for lang in langs:
                if lang == "en_US":
                    continue
                for vals in company.with_context(lang=lang)._vip_get_builtin_moment_rules_vals():
                    code = self._vip_builtin_code(vals)
                    rule = rules.get(code)
                    if not rule:
                        continue
                    for fname in translatable:
                        value, shipped = vals.get(fname), english[code].get(fname)
                        if (
                            isinstance(value, str)
                            and value
                            and value != shipped
                            and rule.with_context(lang="en_US")[fname] == shipped
                        ):
                            rule.update_field_translations(fname, {lang: value})
        return True
