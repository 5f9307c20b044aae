from odoo import api, fields, models, tools


class CrmStage(models.Model):
    _inherit = "crm.stage"  # pylint: disable=consider-merging-classes-inherited

    required_fact_field_ids = fields.Many2many(
        "ir.model.fields",
        "crm_stage_required_fact_rel",
        "stage_id",
        "field_id",
        string="Required Facts",
        domain=[
            ("model", "=", "crm.lead"),
            ("ttype", "not in", ["one2many", "many2many", "binary", "boolean"]),
        ],
        help="What an opportunity must have filled in to leave this stage (for "
        "Verification: customer, contact, industry, region, company size and "
        "source). Checked like a required criterion by the stage gate.",
    )

    def write(self, vals):
        res = super().write(vals)
        if "required_fact_field_ids" in vals:
            # Creating or deleting a stage clears it too (crm_stage.py).
            self.env.registry.clear_cache()  # _required_facts
        return res

    @api.model
    @tools.ormcache()
    def _required_facts(self):
        """{stage id: field names of crm.lead it requires}, for the stages that
        require facts. The gate reads it on each forward move without a query."""
        stages = self.sudo().search([("required_fact_field_ids", "!=", False)])
        return {
            stage.id: tuple(stage.required_fact_field_ids.mapped("name"))
            for stage in stages
        }

    # The facts Verification asks for (漏斗录入规范: information complete).
    DEFAULT_REQUIRED_FACTS = (
        "partner_id",
        "contact_name",
        "customer_industry_id",
        "state_id",
        "customer_company_size",
        "funnel_source",
    )

    @api.model
    def _set_default_required_facts(self):
        """Verification requires the default facts, unless a manager chose
        others. Run after the demo data at installation (post_init_hook: the
        demo moves its deals as they were entered before the rule), and by
        the migration of installed databases."""
        stage = self.env.ref("sales_funnel.crm_stage_verification", False)
        if not stage or stage.required_fact_field_ids:
            return
        stage.required_fact_field_ids = self.env["ir.model.fields"].search(
            [("model", "=", "crm.lead"), ("name", "in", self.DEFAULT_REQUIRED_FACTS)]
        )
