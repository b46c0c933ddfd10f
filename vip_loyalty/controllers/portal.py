from werkzeug.exceptions import NotFound

from odoo import fields
from odoo.http import content_disposition, request, route

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager


class VipLoyaltyPortal(CustomerPortal):
    """/my/points: the customer's balance, moves and expiry dates.

    Read as the logged-in user, never sudo: the portal record rules show a
    customer their own commercial partner's points only; the explicit domain
    keeps internal users (who may see every customer) to their own too.
    """

    _points_per_page = 40
    # lots expiring within this many days are highlighted (the program's warning delay
    # when it has one)
    _points_expiry_highlight_days = 30

    def _vip_points_domain(self):
        return [("partner_id", "=", request.env.user.partner_id.commercial_partner_id.id)]

    def _vip_points_allowed(self):
        return request.env["vip.loyalty.move"].has_access("read")

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "points_count" in counters:
            values["points_count"] = (
                request.env["vip.loyalty.move"].search_count(self._vip_points_domain())
                if self._vip_points_allowed() else 0
            )
        return values

    @route(["/my/points", "/my/points/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_points(self, page=1, **kw):
        if not self._vip_points_allowed():
            return request.redirect("/my")
        Move = request.env["vip.loyalty.move"]
        domain = self._vip_points_domain()
        total = Move.search_count(domain)
        pager = portal_pager(
            url="/my/points", total=total, page=page, step=self._points_per_page,
        )
        moves = Move.search(domain, limit=self._points_per_page, offset=pager["offset"])
        accounts = request.env["vip.loyalty.account"].search(domain)
        lots = Move.search(
            domain + [("remaining_points", ">", 0), ("expiry_date", "!=", False)],
            order="expiry_date, id", limit=10,
        )
        today = fields.Date.context_today(Move)
        programs = request.env["vip.loyalty.program"]._get_for_companies(accounts.company_id)
        days = max(
            [p.warning_days for p in programs.values()] or [self._points_expiry_highlight_days]
        ) or self._points_expiry_highlight_days
        soon_limit = fields.Date.add(today, days=days)
        soon = lots.filtered(lambda lot: lot.expiry_date <= soon_limit)
        # sudo: the customer's own commercial partner only, for its tier and benefits
        customer = request.env.user.partner_id.commercial_partner_id.sudo()
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "points",
            "accounts": accounts,
            "moves": moves,
            "lots": lots,
            "soon_lots": soon,
            "soon_points": sum(soon.mapped("remaining_points")),
            "soon_date": min(soon.mapped("expiry_date")) if soon else False,
            "tier": customer.vip_tier_id,
            "benefit_rows": customer._vip_benefit_quota_rows()[customer.id],
            "pager": pager,
            "default_url": "/my/points",
        })
        return request.render("vip_loyalty.portal_my_points", values)

    @route("/my/points/statement", type="http", auth="user", website=True)
    def portal_my_points_statement(self, **kw):
        """The customer's own points statement (last twelve months) as a PDF.

        Only ever for the logged-in user's commercial partner: no record id is read
        from the request.
        """
        if not self._vip_points_allowed():
            raise NotFound()
        customer = request.env.user.partner_id.commercial_partner_id
        today = fields.Date.context_today(request.env["vip.loyalty.move"])
        data = {
            "date_from": fields.Date.to_string(fields.Date.subtract(today, years=1, days=-1)),
            "date_to": fields.Date.to_string(today),
            "company_id": request.env.company.id,
            "report_type": "pdf",
            # the statement in the language the customer reads the portal in
            "lang": request.env.lang or request.env.user.lang,
        }
        # sudo: the report action is for loyalty users; the document is the customer's own
        # statement (the partner id comes from the session, never from the request)
        Report = request.env["ir.actions.report"].sudo().with_company(request.env.company)
        render = (
            Report._render_qweb_pdf if Report.get_wkhtmltopdf_state() == "ok"
            else Report._render_qweb_html
        )
        content, report_type = render(
            "vip_loyalty.action_report_points_statement", [customer.id], data=data
        )
        if report_type == "pdf":
            filename = request.env._("Points Statement") + ".pdf"
            headers = [
                ("Content-Type", "application/pdf"),
                ("Content-Disposition", content_disposition(filename)),
            ]
        else:  # tests, or no wkhtmltopdf: the same statement as HTML
            headers = [("Content-Type", "text/html; charset=utf-8")]
        headers.append(("Content-Length", len(content)))
        return request.make_response(content, headers=headers)
