from markupsafe import Markup, escape

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

PAGE_SIZE = 20


class VipServiceTicketPortal(CustomerPortal):
    """Customers' tickets on the portal: list, detail with chatter, new ticket.

    Portal users see the tickets of their commercial entity only: the record rules
    of ``vip_service_ticket_rule_portal`` decide, the controller reads with the
    user's own environment.
    """

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "vip_ticket_count" in counters:
            Ticket = request.env["vip.service.ticket"]
            values["vip_ticket_count"] = Ticket.search_count([]) if Ticket.has_access("read") else 0
        return values

    def _vip_ticket_searchbar(self):
        env = request.env
        sortings = {
            "date": {"label": env._("Newest"), "order": "create_date desc, id desc"},
            "number": {"label": env._("Number"), "order": "number desc"},
            "stage": {"label": env._("Stage"), "order": "stage_id, id desc"},
        }
        filters = {
            "open": {"label": env._("Open"), "domain": [("is_closed", "=", False)]},
            "closed": {"label": env._("Closed"), "domain": [("is_closed", "=", True)]},
            "all": {"label": env._("All"), "domain": []},
        }
        return sortings, filters

    @http.route(
        ["/my/tickets", "/my/tickets/page/<int:page>"], type="http", auth="user", website=True
    )
    def portal_my_vip_tickets(self, page=1, sortby="date", filterby="open", **kw):
        Ticket = request.env["vip.service.ticket"]
        sortings, filters = self._vip_ticket_searchbar()
        sortby = sortby if sortby in sortings else "date"
        filterby = filterby if filterby in filters else "open"
        domain = filters[filterby]["domain"]
        count = Ticket.search_count(domain)
        pager = portal_pager(
            url="/my/tickets",
            url_args={"sortby": sortby, "filterby": filterby},
            total=count,
            page=page,
            step=PAGE_SIZE,
        )
        tickets = Ticket.search(
            domain, order=sortings[sortby]["order"], limit=PAGE_SIZE, offset=pager["offset"]
        )
        request.session["my_vip_tickets_history"] = tickets.ids[:100]
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "tickets": tickets,
                "page_name": "vip_ticket",
                "default_url": "/my/tickets",
                "pager": pager,
                "searchbar_sortings": sortings,
                "searchbar_filters": filters,
                "sortby": sortby,
                "filterby": filterby,
            }
        )
        return request.render("vip_service_ticket.portal_my_vip_tickets", values)

    @http.route(["/my/tickets/<int:ticket_id>"], type="http", auth="public", website=True)
    def portal_my_vip_ticket(self, ticket_id, access_token=None, **kw):
        try:
            ticket = self._document_check_access("vip.service.ticket", ticket_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._get_page_view_values(
            ticket,
            access_token,
            {"ticket": ticket, "page_name": "vip_ticket"},
            "my_vip_tickets_history",
            False,
            **kw,
        )
        return request.render("vip_service_ticket.portal_my_vip_ticket", values)

    @http.route(["/my/tickets/new"], type="http", auth="user", website=True)
    def portal_new_vip_ticket(self, **kw):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "vip_ticket_new",
                "categories": request.env["vip.service.category"].search([]),
                "error": {},
                "form": {},
            }
        )
        return request.render("vip_service_ticket.portal_new_vip_ticket", values)

    @http.route(["/my/tickets/submit"], type="http", auth="user", methods=["POST"], website=True)
    def portal_submit_vip_ticket(self, subject="", description="", category_id=None, **kw):
        env = request.env
        subject = (subject or "").strip()
        description = (description or "").strip()
        category = env["vip.service.category"].browse(int(category_id or 0)).exists()
        error = {}
        if not subject:
            error["subject"] = env._("Give your request a subject.")
        if not description:
            error["description"] = env._("Describe your request.")
        if error:
            values = self._prepare_portal_layout_values()
            values.update(
                {
                    "page_name": "vip_ticket_new",
                    "categories": env["vip.service.category"].search([]),
                    "error": error,
                    "form": {
                        "subject": subject,
                        "description": description,
                        "category_id": category.id,
                    },
                }
            )
            return request.render("vip_service_ticket.portal_new_vip_ticket", values)
        Ticket = env["vip.service.ticket"]
        Ticket.check_access("create")
        partner = env.user.partner_id
        # sudo: the default team is looked up among teams the customer cannot read
        vals = Ticket.sudo()._prepare_ticket_vals(
            partner,
            category,
            name=subject,
            description=Markup("<p>%s</p>")
            % Markup("<br/>").join(escape(line) for line in description.splitlines()),
            channel="portal",
        )
        # sudo: the customer may create a ticket (checked above) but not read the team,
        # SLA and assignment data its creation computes; the partner is forced to theirs
        ticket = Ticket.sudo().create(vals)
        return request.redirect(f"/my/tickets/{ticket.id}")
