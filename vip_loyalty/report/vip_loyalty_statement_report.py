from odoo import api, fields, models


class ReportPointsStatement(models.AbstractModel):
    """Values of the points statement: opening balance, the moves of the
    period and the closing balance of each customer."""

    _name = "report.vip_loyalty.report_points_statement"
    _description = "VIP Points Statement Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = data or {}
        today = fields.Date.context_today(self)
        date_from = fields.Date.to_date(data.get("date_from")) or today.replace(month=1, day=1)
        date_to = fields.Date.to_date(data.get("date_to")) or today
        company = self.env["res.company"].browse(data.get("company_id")) or self.env.company
        partners = self.env["res.partner"].browse(docids).commercial_partner_id
        Move = self.env["vip.loyalty.move"]
        opening = dict(Move._read_group(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id),
             ("date", "<", date_from)],
            ["partner_id"], ["points:sum"],
        ))
        moves = Move.search(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id),
             ("date", ">=", date_from), ("date", "<=", date_to)],
            order="date, id",
        )
        statements = []
        for partner in partners:
            partner_moves = moves.filtered(lambda m, partner=partner: m.partner_id == partner)
            start = opening.get(partner, 0)
            lines = []
            running = start
            for move in partner_moves:
                running += move.points
                lines.append({"move": move, "balance": running})
            statements.append({
                "partner": partner,
                "opening": start,
                "lines": lines,
                "earned": sum(m.points for m in partner_moves if m.points > 0),
                "spent": -sum(m.points for m in partner_moves if m.points < 0),
                "closing": running,
            })
        return {
            "doc_ids": partners.ids,
            "doc_model": "res.partner",
            "docs": partners,
            "statements": statements,
            "company": company,
            "date_from": date_from,
            "date_to": date_to,
            # the reader's language when the customer downloads it on the portal; else
            # each statement in its customer's language (it is sent to them)
            "reader_lang": data.get("lang"),
        }
