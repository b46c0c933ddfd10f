"""The import job that last wrote a customer, and the filter behind a job's
"Customers" button (``vip.import.job.action_open_partners``)."""

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from .res_partner import VIP_USER
from .vip_import_job import JOB_PARTNER_TABLE

SEARCH_OPERATORS = (
    "=", "!=", "in", "not in", "like", "not like", "ilike", "not ilike", "=like", "=ilike",
)


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
        "credited this customer. Filtering by a job finds every customer it wrote.",
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
        """Customers written by the import jobs a value names (a job id, a file
        name, or lists of them), among the jobs the user may read (their record
        rules): every customer a job wrote, not only those it wrote last."""
        if operator not in SEARCH_OPERATORS:
            raise UserError(self.env._(
                "Last Import Job: cannot search with the operator %(operator)s.",
                operator=operator,
            ))
        negative = operator in expression.NEGATIVE_TERM_OPERATORS
        positive = expression.TERM_OPERATORS_NEGATION[operator] if negative else operator
        job_domain, unset = self._vip_job_domain(positive, value)
        if job_domain is None and not unset:
            return expression.TRUE_DOMAIN if negative else expression.FALSE_DOMAIN
        domain = [("id", "in", self._vip_job_partners(job_domain))] if job_domain else []
        if unset:
            # "not set": no job ever wrote the customer (or one of the jobs did)
            leaf = [("id", "not in", self._vip_job_partners([]))]
            domain = expression.OR([leaf, domain]) if domain else leaf
        return ["!", *expression.normalize_domain(domain)] if negative else domain

    def _vip_job_domain(self, operator, value):
        """The jobs a search value names, for a positive ``operator``:
        ``(job domain or None, whether "not set" is asked)``. ``=``/``in``
        take job ids, file names, False/None (not set) or lists of them; the
        other operators a file name pattern."""
        if operator not in ("=", "in"):
            if not isinstance(value, str):
                raise UserError(self.env._(
                    "Last Import Job: search a file name with %(operator)s, not %(value)s.",
                    operator=operator, value=value,
                ))
            return [("name", operator, value)], False
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        unset = any(v is None or v is False for v in values)
        ids = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
        names = [v for v in values if isinstance(v, str)]
        if len(ids) + len(names) + sum(v is None or v is False for v in values) < len(values):
            raise UserError(self.env._(
                "Last Import Job: search by a job (its id) or a file name, not %(value)s.",
                value=value,
            ))
        job_domains = []
        if ids:
            # an id no table can hold matches nothing (instead of a database error)
            job_domains.append([("id", "in", [i for i in ids if 0 < i < 2**31])])
        if names:
            job_domains.append([("name", "in", names)])
        return (expression.OR(job_domains) if job_domains else None), unset

    def _vip_job_partners(self, job_domain):
        """SQL selecting the customers written by the readable jobs of ``job_domain``."""
        jobs = self.env["vip.import.job"]._search(job_domain)
        return SQL(
            "(SELECT partner_id FROM %s WHERE job_id IN %s)",
            SQL.identifier(JOB_PARTNER_TABLE), jobs.subselect(),
        )
