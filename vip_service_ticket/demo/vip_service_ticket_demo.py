"""Demo tickets in every state, dated relative to now, which XML alone cannot express.

Called from demo/vip_service_ticket_demo.xml (``<function>``); lives here, in demo/,
with the XML that calls it, not among the production models (as vip_customer's demo
loader does). It extends the SLA engine: the demo stands in for time passing (SLA
starts in the past, escalations fired).
"""

from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models


class VipServiceSlaEngine(models.AbstractModel):
    _inherit = "vip.service.sla.engine"

    @api.model
    def _create_demo_tickets(self):
        """Demo tickets in every state, dated relative to now (called from demo XML)."""
        ref = self.env.ref
        if ref("vip_service_ticket.vip_service_ticket_demo_1", raise_if_not_found=False):
            return self.env["vip.service.ticket"]  # already there: an update reloads demo files
        admin, demo = ref("base.user_admin"), ref("base.user_demo")
        care, hotline = (
            ref("vip_service_ticket.vip_service_team_care"),
            ref("vip_service_ticket.vip_service_team_hotline"),
        )
        customers = self._get_demo_customers()
        customers["a"].vip_account_manager_id = demo
        customers["a2"].vip_account_manager_id = admin
        stages = {
            key: ref(f"vip_service_ticket.vip_service_stage_{key}")
            for key in ("new", "in_progress", "waiting", "solved")
        }
        categories = {
            key: ref(f"vip_service_ticket.vip_service_category_{key}")
            for key in ("complaint", "inquiry", "request", "after_sales", "feedback")
        }
        causes = {
            key: ref(f"vip_service_ticket.vip_service_root_cause_{key}")
            for key in ("product", "delivery", "staff", "process")
        }
        now = fields.Datetime.now()
        specs = [
            # (subject, customer, category, team, channel, working hours ago, priority, state)
            (
                "Order VT-88 delivered with a broken vase",
                "a",
                "complaint",
                hotline,
                "phone",
                22,
                "2",
                "escalated",
            ),
            ("Wrong size on the tailored suit", "a2", "complaint", care, "visit", 0.5, "1", "new"),
            (
                "Invoice shows the old VIP discount",
                "b",
                "inquiry",
                hotline,
                "email",
                2,
                "1",
                "answered",
            ),
            (
                "Book the private tasting room for Friday",
                "a",
                "request",
                hotline,
                "chat",
                1,
                "2",
                "new",
            ),
            (
                "Warranty repair of the espresso machine",
                "b",
                "after_sales",
                care,
                "portal",
                6,
                "1",
                "waiting",
            ),
            ("Parking voucher not received", "c", "inquiry", care, "phone", 30, "0", "breached"),
            (
                "Late delivery of the anniversary gift",
                "a2",
                "complaint",
                hotline,
                "phone",
                30,
                "2",
                "closed",
            ),
            (
                "Thank you for the birthday flowers",
                "c",
                "feedback",
                care,
                "email",
                5,
                "0",
                "closed",
            ),
            (
                "Question about the membership renewal",
                "none",
                "inquiry",
                care,
                "portal",
                3,
                "1",
                "new",
            ),
            ("Exchange of a gift card", "b", "request", hotline, "visit", 40, "1", "at_risk"),
            (
                "Champagne served warm at the member dinner",
                "b",
                "complaint",
                care,
                "visit",
                12,
                "1",
                "complaint_progress",
            ),
            (
                "Rude answer at the boutique counter",
                "a",
                "complaint",
                care,
                "phone",
                16,
                "1",
                "complaint_visit",
            ),
        ]
        vals_list = []
        for subject, customer, category, team, channel, hours, priority, _state in specs:
            calendar = team._get_sla_calendar()
            start = calendar.plan_hours(-hours, now, compute_leaves=True) if hours else now
            vals = self.env["vip.service.ticket"]._prepare_ticket_vals(
                customers[customer],
                categories[category],
                name=subject,
                description=Markup("<p>%s</p>") % subject,
                team_id=team.id,
                channel=channel,
                priority=priority,
                sla_start_date=start,
            )
            vals_list.append(vals)
        tickets = self.env["vip.service.ticket"].with_context(mail_notrack=True).create(vals_list)
        self.env["ir.model.data"].create(
            [
                {
                    "module": "vip_service_ticket",
                    "name": f"vip_service_ticket_demo_{index}",
                    "model": "vip.service.ticket",
                    "res_id": ticket.id,
                    "noupdate": True,
                }
                for index, ticket in enumerate(tickets, start=1)
            ]
        )
        by_state = {spec[-1]: self.env["vip.service.ticket"] for spec in specs}
        for ticket, spec in zip(tickets, specs, strict=True):
            by_state[spec[-1]] |= ticket
        replied = tickets - by_state["new"] - by_state["breached"]
        for ticket in replied:
            ticket.with_user(ticket.user_id or admin).message_post(
                body=self.env._(
                    "Thank you, we are looking into it and will come back to you shortly."
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        for ticket in replied:
            # answered half an hour after opening (the demo replies are posted just now)
            ticket.first_response_date = min(now, ticket.sla_start_date + timedelta(minutes=30))
        (tickets - by_state["new"]).write({"stage_id": stages["in_progress"].id})
        by_state["waiting"].write({"stage_id": stages["waiting"].id})
        self._run_demo_complaint_loops(by_state, causes)
        for ticket in by_state["closed"]:
            ticket.write(
                {
                    "root_cause_id": causes["delivery"].id if ticket.is_complaint else False,
                    "solution": ticket.solution
                    or Markup("<p>%s</p>")
                    % self.env._("Delivered by courier the next morning, with an apology gift."),
                    "stage_id": stages["solved"].id,
                }
            )
        self._close_demo_complaint_loops(by_state["closed"].filtered("is_complaint"))
        (by_state["escalated"] | by_state["breached"] | by_state["at_risk"])._sla_escalate(now)
        # the program KPIs were computed when vip_customer loaded its demo: again, now
        # that the tickets (complaints, SLA results, ratings) exist
        self.env["vip.kpi.engine"]._load_demo_kpis(ref("base.main_company"))
        return tickets

    @api.model
    def _run_demo_complaint_loops(self, by_state, causes):
        """Complaints at every step of the loop, moved on by their assignee as in real use."""
        ref = self.env.ref
        logistics = ref("vip_service_ticket.vip_service_responsibility_logistics")
        events = ref("vip_service_ticket.vip_service_responsibility_events")
        boutique = ref("vip_service_ticket.vip_service_responsibility_boutique")
        loops = [
            # (tickets, root cause, findings, responsibility, solution, progress update, result)
            (
                by_state["escalated"],
                causes["product"],
                self.env._(
                    "The customer's photos show a crack across the base; the courier's box "
                    "had no padding."
                ),
                logistics,
                None,
                None,
                None,
            ),
            (
                by_state["closed"].filtered("is_complaint"),
                causes["delivery"],
                self.env._(
                    "The courier's tracking shows the gift arrived two days after the anniversary."
                ),
                logistics,
                self.env._("Delivered by courier the next morning, with an apology gift."),
                self.env._(
                    "Your gift left our warehouse this morning with a dedicated courier; it will "
                    "be with you tomorrow before 10:00."
                ),
                self.env._(
                    "The gift arrived the next morning; the customer accepted the apology gift."
                ),
            ),
            (
                by_state["complaint_progress"],
                causes["process"],
                self.env._(
                    "The sommelier confirms the wine cooler failed during the dinner; eight "
                    "guests were served."
                ),
                events,
                self.env._(
                    "The customer and the guests are invited to the next tasting as our guests; "
                    "the coolers are checked before each event from now on."
                ),
                self.env._(
                    "We have reserved eight seats for you and your guests at Friday's tasting; "
                    "the invitation follows by mail."
                ),
                None,
            ),
            (
                by_state["complaint_visit"],
                causes["staff"],
                self.env._(
                    "The shift manager confirms the answer; the employee has apologised to them."
                ),
                boutique,
                self.env._(
                    "A personal apology from the boutique manager, and a refresher training "
                    "on VIP service for the counter team."
                ),
                self.env._("Our boutique manager will call you today to apologise in person."),
                self.env._("The boutique manager apologised by phone; the customer accepted it."),
            ),
        ]
        admin = ref("base.user_admin")
        for tickets, cause, findings, responsibility, solution, update, result in loops:
            for ticket in tickets:
                actor = ticket.user_id if ticket.user_id and not ticket.user_id.share else admin
                ticket = ticket.with_user(actor)
                ticket._complaint_verify(findings, cause)
                ticket._complaint_assign_responsibility(responsibility)
                if solution:
                    ticket._complaint_record_solution(Markup("<p>%s</p>") % solution)
                if update:
                    ticket._complaint_send_progress(update)
                if result:
                    ticket._complaint_record_result(result)

    @api.model
    def _close_demo_complaint_loops(self, complaints):
        """After closing: the follow-up visit done, then the customer's satisfied rating."""
        visit_type = self.env["vip.service.ticket"]._get_complaint_visit_type()
        for ticket in complaints:
            visits = ticket.activity_ids.filtered(lambda a: a.activity_type_id == visit_type)
            for visit in visits:
                visit.with_user(visit.user_id).action_feedback(
                    feedback=self.env._(
                        "Visited the customer: happy with the apology gift, asked to keep the "
                        "same courier for the next orders."
                    )
                )
            token = ticket._rating_get_access_token()
            ticket.rating_apply(5, token=token, feedback=self.env._("Thank you for the quick fix."))
        return complaints

    @api.model
    def _get_demo_customers(self):
        """Demo customers by tier: those vip_customer's demo ranked, else base demo companies."""
        ref = self.env.ref
        Partner = self.env["res.partner"]
        fallback = [ref(f"base.res_partner_{n}") for n in (1, 4, 2, 3, 12)]
        customers = {}
        for key, code in (("a", "a"), ("a2", "a"), ("b", "b"), ("c", "c")):
            tier = ref(f"vip_customer.vip_tier_demo_{code}")
            taken = [p.id for p in customers.values()]
            partner = Partner.search(
                [("vip_tier_id", "=", tier.id), ("is_company", "=", True), ("id", "not in", taken)],
                limit=1,
            )
            if not partner:
                partner = next(p for p in fallback if p.id not in taken)
                # the tier engine's privileged write, as the demo stands in for it
                partner.with_context(vip_engine=True).sudo().write({"vip_tier_id": tier.id})
            customers[key] = partner
        taken = [p.id for p in customers.values()]
        customers["none"] = Partner.search(
            [
                ("vip_tier_id", "=", False),
                ("is_company", "=", True),
                ("email", "!=", False),
                ("id", "not in", taken),
            ],
            limit=1,
        ) or ref("base.res_partner_12")
        return customers
