from odoo import fields, models


class VipImportJobKey(models.Model):
    """The first row of the file on which a key was seen, for an import job
    validating its file in slices (``vip.import.job._get_first_rows``): a key
    repeated on a later row, or an existing customer updated by two rows, is
    found across slices. Written and read by the engine only (SQL on this
    add-on's own table), deleted with the job's end."""

    _name = "vip.import.job.key"
    _description = "VIP Import Job Row Key"
    _log_access = False

    job_id = fields.Many2one("vip.import.job", required=True, ondelete="cascade")
    # sha256 of "kind<US>value" (a cell may be too long for the index)
    key = fields.Char(required=True, size=64)
    row_number = fields.Integer(required=True)

    _sql_constraints = [
        ("job_key_uniq", "unique(job_id, key)", "A key is recorded once per import job."),
    ]
