from odoo import api, fields, models

# Same recurrences as OCA contract lines (contract.recurring.mixin).
RECURRENCES = [
    ("daily", "Day(s)"),
    ("weekly", "Week(s)"),
    ("monthly", "Month(s)"),
    ("quarterly", "Quarter(s)"),
    ("semesterly", "Semester(s)"),
    ("yearly", "Year(s)"),
]


class CrmLeadLine(models.Model):
    _name = "crm.lead.line"
    _description = "Opportunity Product Line"
    _order = "lead_id, sequence, id"
    _check_company_auto = True

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        ondelete="cascade",
        index=True,
    )
    company_id = fields.Many2one(related="lead_id.company_id", store=True)
    currency_id = fields.Many2one(related="lead_id.company_currency")
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain=[("sale_ok", "=", True)],
    )
    name = fields.Char(
        string="Description",
        compute="_compute_name",
        store=True,
        readonly=False,
        precompute=True,
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    price_unit = fields.Float(
        string="Unit Price",
        digits="Product Price",
        compute="_compute_price_unit",
        store=True,
        readonly=False,
        precompute=True,
    )
    discount = fields.Float(string="Discount (%)", digits="Discount")
    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_price_subtotal", store=True
    )
    is_accessory = fields.Boolean(
        string="Accessory",
        related="product_id.categ_id.sales_funnel_is_accessory",
        store=True,
    )
    line_type = fields.Selection(
        [("one_off", "One-off sale"), ("recurring", "Recurring service")],
        string="Type",
        default="one_off",
        required=True,
        help="Recurring lines (service, maintenance) become a contract when the deal "
        "is won; the sales order bills their first period.",
    )
    recurring_rule_type = fields.Selection(
        RECURRENCES, string="Recurrence", default="monthly"
    )
    recurring_interval = fields.Integer(string="Every", default=1)

    _sql_constraints = [
        (
            "quantity_positive",
            "CHECK(quantity > 0)",
            "The quantity of an opportunity line must be positive.",
        ),
        (
            "discount_range",
            "CHECK(discount >= 0 AND discount <= 100)",
            "A discount must be between 0% and 100%.",
        ),
        (
            "recurring_interval_positive",
            "CHECK(line_type <> 'recurring' OR recurring_interval > 0)",
            "A recurring line must recur at least every 1 period.",
        ),
    ]

    @api.depends("product_id")
    def _compute_name(self):
        for line in self:
            line.name = line.product_id.get_product_multiline_description_sale() or (
                line.product_id.display_name
            )

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            line.price_unit = line.product_id.lst_price

    @api.depends("quantity", "price_unit", "discount")
    def _compute_price_subtotal(self):
        for line in self:
            line.price_subtotal = (
                line.quantity * line.price_unit * (1 - (line.discount or 0.0) / 100.0)
            )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.lead_id._update_revenue_from_lines()
        return lines

    def write(self, vals):
        leads = self.lead_id
        res = super().write(vals)
        (leads | self.lead_id)._update_revenue_from_lines()
        return res

    def unlink(self):
        leads = self.lead_id
        res = super().unlink()
        leads.exists()._update_revenue_from_lines()
        return res
