"""One cron per job: the forecast and the stage flow are compacted apart.

The cron file is noupdate: an upgrade creates the new stage-flow cron
``ir_cron_stage_flow_compact`` (a record whose XML id is not in the database yet
is created even from a noupdate file) but leaves the existing forecast cron as
it was, still compacting both. Make it compact the forecast only, unless
someone has changed its code meanwhile.
"""

from odoo import SUPERUSER_ID, api

OLD_CODE = 'model._cron_compact()\nenv["crm.stage.flow"]._cron_compact()'
OLD_NAME = "Sales Funnel: compact the forecast and stage-flow figures"
NEW_NAME = "Sales Funnel: compact the forecast figures"


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
    summary = env.ref("sales_funnel.ir_cron_funnel_summary_compact", False)
    if not summary or summary.code.strip() != OLD_CODE:
        return
    summary.code = "model._cron_compact()"
    if summary.name == OLD_NAME:
        # A new name in every language: the translations loaded after this
        # script fill the other languages in again.
        env.flush_all()
        cr.execute(
            "UPDATE ir_act_server SET name = jsonb_build_object('en_US', %s)"
            " WHERE id = %s",
            [NEW_NAME, summary.ir_actions_server_id.id],
        )
        env.invalidate_all()
