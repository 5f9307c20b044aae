from odoo import models

from .. import jobs


class IrCron(models.Model):
    _inherit = "ir.cron"

    @classmethod
    def _process_job(cls, db, cron_cr, job):
        # The addon's jobs share a time budget per cycle of the runner
        # (jobs.py): the runner's cursor tells which cycle a job belongs to.
        with jobs.runner_job(cron_cr):
            return super()._process_job(db, cron_cr, job)
