from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    sales_funnel_stage_id = fields.Many2one(
        "crm.stage",
        string="Planned on Entering",
        ondelete="set null",
        readonly=True,
        help="The stage whose entry planned this activity (its entry activity or "
        "a collaborator brought in): entering it again does not plan a second "
        "one while this one is open.",
    )
