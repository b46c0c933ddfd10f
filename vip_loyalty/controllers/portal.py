from odoo.http import request, route

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager


class VipLoyaltyPortal(CustomerPortal):
    """/my/points: the customer's balance, moves and expiry dates.

    Read as the logged-in user, never sudo: the portal record rules show a
    customer their own commercial partner's points only; the explicit domain
    keeps internal users (who may see every customer) to their own too.
    """

    _points_per_page = 40

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
        values = self._prepare_portal_layout_values()
        values.update({
            "page_name": "points",
            "accounts": accounts,
            "moves": moves,
            "lots": lots,
            "pager": pager,
            "default_url": "/my/points",
        })
        return request.render("vip_loyalty.portal_my_points", values)
