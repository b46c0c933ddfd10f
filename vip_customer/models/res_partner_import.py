"""The import job that last wrote a customer, and the filter behind a job's
"Customers" button (``vip.import.job.action_open_partners``)."""

from odoo import fields, models
from odoo.osv import expression
from odoo.tools import SQL

from .res_partner import VIP_USER
from .vip_import_job import JOB_PARTNER_TABLE


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    vip_import_job_id = fields.Many2one(
        "vip.import.job",
        string="Last Import Job",
        compute="_compute_vip_import_job_id",
        search="_search_vip_import_job_id",
        # every reader of import jobs is a VIP user (ACL); others never meet the field
        groups=VIP_USER,
        help="The last import job (among those you may read) that created, updated or "
        "credited this customer.",
    )

    def _compute_vip_import_job_id(self):
        latest = {}
        ids = [pid for pid in self.ids if pid]
        if ids:
            self.env.cr.execute(SQL(
                "SELECT partner_id, ARRAY_AGG(job_id ORDER BY job_id DESC) FROM %s "
                "WHERE partner_id IN %s GROUP BY partner_id",
                SQL.identifier(JOB_PARTNER_TABLE), tuple(ids),
            ))
            rows = self.env.cr.fetchall()
            Job = self.env["vip.import.job"]
            readable = set(Job.browse({j for _p, jobs in rows for j in jobs})
                           ._filtered_access("read").ids)
            for partner_id, jobs in rows:
                latest[partner_id] = next((j for j in jobs if j in readable), False)
        for partner in self:
            partner.vip_import_job_id = latest.get(partner.id, False)

    def _search_vip_import_job_id(self, operator, value):
        """Customers written by the import jobs matching ``(operator, value)`` (a
        job id, ids, or a text searched in the file name), among the jobs the
        user may read (their record rules)."""
        if value is False and operator in ("=", "!="):
            # not set / set: written by no job / by some job the user may read
            return [("id", "not in" if operator == "=" else "in", self._vip_job_partners([]))]
        negative = operator in expression.NEGATIVE_TERM_OPERATORS
        if negative:
            operator = expression.TERM_OPERATORS_NEGATION[operator]
        fname = "name" if isinstance(value, str) else "id"
        partners = self._vip_job_partners([(fname, operator, value)])
        return [("id", "not in" if negative else "in", partners)]

    def _vip_job_partners(self, job_domain):
        """SQL selecting the customers written by the readable jobs of ``job_domain``."""
        jobs = self.env["vip.import.job"]._search(job_domain)
        return SQL(
            "(SELECT partner_id FROM %s WHERE job_id IN %s)",
            SQL.identifier(JOB_PARTNER_TABLE), jobs.subselect(),
        )
