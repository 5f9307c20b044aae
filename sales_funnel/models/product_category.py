from odoo import fields, models


class ProductCategory(models.Model):
    _inherit = "product.category"

    sales_funnel_is_accessory = fields.Boolean(
        string="Accessories",
        help="Accessories (配件) stay out of the funnel's amounts: their lines on an "
        "opportunity do not count in its expected revenue, but still go to the "
        "sales order when the deal is won.",
    )
