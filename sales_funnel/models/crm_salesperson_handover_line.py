from odoo import api, fields, models

from .crm_salesperson_handover import HANDOVER_KINDS


class CrmSalespersonHandoverLine(models.Model):
    """One record a hand-over gave to a colleague: what, from whom, to whom.

    The record is named and valued as it was at the hand-over, so that the
    hand-over still reads right once the deal moved on (or the target was
    merged into the colleague's own)."""

    _name = "crm.salesperson.handover.line"
    _inherit = ["crm.immutable.mixin"]
    _description = "Salesperson Hand-over Line"
    _order = "handover_id, sequence, id"

    handover_id = fields.Many2one(
        "crm.salesperson.handover",
        string="Hand-over",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    sequence = fields.Integer(readonly=True)
    kind = fields.Selection(HANDOVER_KINDS, string="What", required=True, readonly=True)
    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(
        string="Record ID", model_field="res_model", readonly=True
    )
    name = fields.Char(string="Record", required=True, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(currency_field="currency_id", readonly=True)
    from_user_id = fields.Many2one(
        "res.users",
        string="Previous Owner",
        readonly=True,
        index=True,
        context={"active_test": False},
    )
    to_user_id = fields.Many2one(
        "res.users",
        string="Taken Over By",
        readonly=True,
        index=True,
        context={"active_test": False},
    )
    note = fields.Char(readonly=True)

    @api.model
    def _record_name(self, record):
        """How a handed-over record is named on the hand-over."""
        record = record.sudo()
        if record._name == "mail.activity":
            what = record.summary or record.activity_type_id.name or ""
            return f"{what} ({record.res_name})" if record.res_name else what
        return record.display_name

    def action_open_record(self):
        self.ensure_one()
        record = self.env[self.res_model].browse(self.res_id).exists()
        if self.res_model == "mail.activity" and record:
            record = self.env[record.res_model].browse(record.res_id)
        if not record:
            return False
        return record._get_records_action(name=self.name)
