import re

from markupsafe import Markup, escape
from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.http import request
from odoo.tools.misc import formatLang

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

# control characters a person cannot type in a form (NUL cannot even be stored);
# newline, carriage return and tab are text
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PAGE_SIZE = 20
SUBJECT_MAX = 200
DESCRIPTION_MAX = 20000


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
            count = Ticket.search_count([]) if Ticket.has_access("read") else 0
            # shown as is by the portal's counters script: formatted in the user's language
            values["vip_ticket_count"] = formatLang(request.env, count, digits=0) if count else 0
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

    def _vip_ticket_categories(self):
        """The categories a customer may choose on the new-request form."""
        return request.env["vip.service.category"].search([])

    def _render_new_vip_ticket(self, error=None, form=None):
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "vip_ticket_new",
                "categories": self._vip_ticket_categories(),
                "error": error or {},
                "form": form or {},
            }
        )
        return request.render("vip_service_ticket.portal_new_vip_ticket", values)

    @http.route(["/my/tickets/new"], type="http", auth="user", website=True)
    def portal_new_vip_ticket(self, **kw):
        return self._render_new_vip_ticket()

    def _check_new_vip_ticket(self, subject, description, category_id):
        """Validate the new-request form: ``(category, {field: error message})``.

        Everything the browser sends is text and may be anything: a category must be
        one of those the form offers (an id, not archived), not a 500.
        """
        env = request.env
        error = {}
        if not subject:
            error["subject"] = env._("Give your request a subject.")
        elif CONTROL_CHARS.search(subject):
            error["subject"] = env._(
                "Subject: remove the invisible control characters (pasted from another program)."
            )
        elif len(subject) > SUBJECT_MAX:
            error["subject"] = env._(
                "Keep the subject under %(count)s characters.", count=SUBJECT_MAX
            )
        if not description:
            error["description"] = env._("Describe your request.")
        elif CONTROL_CHARS.search(description):
            error["description"] = env._(
                "Description: remove the invisible control characters (pasted from another "
                "program)."
            )
        elif len(description) > DESCRIPTION_MAX:
            error["description"] = env._(
                "Keep the description under %(count)s characters.", count=DESCRIPTION_MAX
            )
        category = env["vip.service.category"]
        if category_id:
            categories = self._vip_ticket_categories()
            category = categories.filtered(lambda c: str(c.id) == str(category_id).strip())
            if not category:
                error["category_id"] = env._("Category: choose one of the categories in the list.")
        return category, error

    @http.route(["/my/tickets/submit"], type="http", auth="user", methods=["POST"], website=True)
    def portal_submit_vip_ticket(self, subject="", description="", category_id=None, **kw):
        env = request.env
        subject = (subject or "").strip()
        description = (description or "").strip()
        category, error = self._check_new_vip_ticket(subject, description, category_id)
        form = {"subject": subject, "description": description, "category_id": category.id}
        if error:
            return self._render_new_vip_ticket(error, form)
        Ticket = env["vip.service.ticket"]
        if not (env.user._is_portal() or Ticket.has_access("create")):
            raise Forbidden()
        partner = env.user.partner_id
        try:
            with env.cr.savepoint():
                # sudo: customers cannot create tickets themselves (no ACL), nor read the
                # team, SLA and assignment data the creation computes; the form's values
                # were checked above and the partner is forced to theirs
                vals = Ticket.sudo()._prepare_ticket_vals(
                    partner,
                    category,
                    name=subject,
                    description=Markup("<p>%s</p>")
                    % Markup("<br/>").join(escape(line) for line in description.splitlines()),
                    channel="portal",
                )
                ticket = Ticket.sudo().create(vals)
        except (UserError, ValidationError) as exc:
            return self._render_new_vip_ticket({"form": exc.args[0]}, form)
        return request.redirect(f"/my/tickets/{ticket.id}")
