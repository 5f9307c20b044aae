"""The funnel's entry rules (漏斗录入规范) on crm.lead.

- End users only: a dealer (经销商) or contractor (施工方) is not the customer of
  an opportunity (``_check_partner_id``); the dealer is recorded beside the end
  user (``dealer_id``).
- Registered names: res_partner.py refuses a second company under the same
  registered name (registered_name.py).
- Accessories (配件): a deal made only of accessories does not go through the
  funnel's stages; it is won straight away and goes to the sales secretary's
  hand-off list (``_check_accessory_deals``, step 1 of write, with the gate).
- Completeness: the facts a stage requires (``crm.stage.required_fact_field_ids``)
  are checked by the gate like required criteria (``_missing_facts``).
"""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import sql

from .res_partner import NOT_END_USER


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    dealer_id = fields.Many2one(
        "res.partner",
        string="Dealer / Contractor",
        index="btree_not_null",
        tracking=True,
        domain=[
            ("sales_funnel_customer_type", "in", NOT_END_USER),
            ("parent_id", "=", False),
        ],
        help="The dealer (经销商) or contractor (施工方) the deal goes through. The "
        "customer of the opportunity is always the end user.",
    )
    customer_industry_id = fields.Many2one(
        related="partner_id.commercial_partner_id.industry_id",
        string="Customer Industry",
    )
    customer_company_size = fields.Selection(
        related="partner_id.commercial_partner_id.company_size",
        string="Customer Company Size",
    )
    accessory_only = fields.Boolean(
        string="Accessories Only",
        compute="_compute_accessory_only",
        store=True,
        help="Every product line is an accessory (配件): the deal does not go "
        "through the funnel; once won it goes straight to the sales secretary's "
        "hand-off list to become an order.",
    )

    def _auto_init(self):
        # Filled in SQL on installation, not computed lead by lead in Python
        # (a million opportunities).
        cr = self.env.cr
        if not sql.column_exists(cr, self._table, "accessory_only"):
            sql.create_column(cr, self._table, "accessory_only", "boolean")
            if sql.table_exists(cr, "crm_lead_line"):
                cr.execute(
                    """
                    UPDATE crm_lead lead SET accessory_only = TRUE
                      FROM (SELECT lead_id FROM crm_lead_line GROUP BY lead_id
                            HAVING bool_and(is_accessory)) line
                     WHERE line.lead_id = lead.id
                    """
                )
        return super()._auto_init()

    @api.depends("line_ids.is_accessory")
    def _compute_accessory_only(self):
        for lead in self:
            lines = lead.line_ids
            lead.accessory_only = bool(lines) and all(lines.mapped("is_accessory"))

    # ------------------------------------------------------------------
    # End users only
    # ------------------------------------------------------------------

    @api.constrains("partner_id", "type")
    def _check_partner_id(self):
        """The customer of an opportunity is an end user, on every path
        (form, import, copy, RPC, conversion of a lead)."""
        refused = self.filtered(
            lambda lead: (
                lead.type == "opportunity"
                and lead.partner_id.commercial_partner_id.sales_funnel_customer_type
                in NOT_END_USER
            )
        )
        if refused:
            lead = refused[0]
            customer = lead.partner_id.commercial_partner_id
            raise ValidationError(
                self.env._(
                    "“%(partner)s” is marked as %(type)s: dealers (经销商) and "
                    "contractors (施工方) do not enter the funnel. Set the end user "
                    "as the customer of “%(lead)s”, and record “%(partner)s” in its "
                    "Dealer / Contractor field.",
                    partner=customer.name,
                    type=dict(
                        customer._fields[
                            "sales_funnel_customer_type"
                        ]._description_selection(self.env)
                    )[customer.sales_funnel_customer_type],
                    lead=lead.name,
                )
            )

    # ------------------------------------------------------------------
    # With step 1 of write (the gate): accessories and facts
    # ------------------------------------------------------------------

    def _check_accessory_deals(self, new_stage):
        """Deals made only of accessories skip the funnel: to a won stage they
        pass without the gate (returned, to leave out of it); to any other
        later stage they are refused."""
        accessory = self.filtered("accessory_only")
        if not accessory:
            return accessory
        if new_stage.is_won:
            return accessory
        raise UserError(
            self.env._(
                "“%(lead)s” is made only of accessories (配件): accessories do not "
                "enter the funnel. Mark it as won when the customer orders: it goes "
                "straight to the sales secretary's hand-off list to become an "
                "order.",
                lead=accessory[0].name,
            )
        )

    def _missing_facts(self, passed_by_lead):
        """Facts required by the stages each opportunity leaves or skips and
        not filled ({lead id: [(stage, field labels)]}); ``passed_by_lead``:
        {lead id: stages passed}. No query when no stage passed requires
        facts; else the opportunities' customers are read once."""
        required = self.env["crm.stage"]._required_facts()
        missing = {}
        for lead in self:
            for stage in passed_by_lead[lead.id]:
                names = required.get(stage.id)
                if not names:
                    continue
                empty = [
                    lead._fields[name]._description_string(self.env)
                    for name in names
                    if name in lead._fields and not lead[name]
                ]
                if empty:
                    missing.setdefault(lead.id, []).append((stage, empty))
        return missing

    def _format_missing_facts(self, missing):
        return "\n".join(
            f"{stage.name}:\n"
            + "\n".join(
                "  • " + self.env._("%(fact)s filled in", fact=label)
                for label in labels
            )
            for stage, labels in missing
        )
