from odoo import api, models


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _attached_opportunities(self):
        """The opportunities these documents are attached to (not the files of
        their binary fields)."""
        lead_ids = {
            attachment.res_id
            for attachment in self.sudo()
            if attachment.res_model == "crm.lead"
            and attachment.res_id
            and not attachment.res_field
        }
        return self.env["crm.lead"].browse(lead_ids)

    @api.model_create_multi
    def create(self, vals_list):
        attachments = super().create(vals_list)
        attachments._attached_opportunities().exists()._sync_evidence_ticks()
        return attachments

    def unlink(self):
        leads = self._attached_opportunities()
        res = super().unlink()
        leads.exists()._sync_evidence_ticks()
        return res
