from odoo import fields, models


class CrmFunnelPipelineWizard(models.TransientModel):
    _name = "crm.funnel.pipeline.wizard"
    _description = "Pipeline as of a Date"

    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="The pipeline is shown as it stood at the end of this day.",
    )

    def action_open(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "sales_funnel.crm_funnel_pipeline_report_action"
        )
        action["name"] = self.env._(
            "Pipeline as of %(date)s",
            date=fields.Date.to_string(self.date),
        )
        action["context"] = {
            "sales_funnel_as_of": fields.Date.to_string(self.date),
            "search_default_open": 1,
        }
        return action
