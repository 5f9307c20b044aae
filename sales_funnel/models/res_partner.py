from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..registered_name import registered_name_key

# Who a company is to us (漏斗录入规范): only end users enter the funnel.
CUSTOMER_TYPES = [
    ("end_user", "End User"),
    ("dealer", "Dealer"),
    ("contractor", "Contractor"),
]
NOT_END_USER = ("dealer", "contractor")


class ResPartner(models.Model):
    _inherit = "res.partner"

    sales_funnel_is_competitor = fields.Boolean(
        string="Competitor",
        index="btree_not_null",
        help="A company we compete with: loss reports name it as the one who won.",
    )

    # 规模: a slice of the forecast and funnel reports, and one of the facts
    # a deal needs before it leaves Verification.
    company_size = fields.Selection(
        [
            ("micro", "Micro (under 10 staff)"),
            ("small", "Small (10-99 staff)"),
            ("medium", "Medium (100-999 staff)"),
            ("large", "Large (1,000 staff or more)"),
        ],
        tracking=True,
        help="The customer's size, a slice of the funnel and forecast reports.",
    )

    # Entry rules of the funnel (crm_lead_entry.py).
    sales_funnel_customer_type = fields.Selection(
        CUSTOMER_TYPES,
        string="Customer Type",
        default="end_user",
        tracking=True,
        help="Dealers (经销商) and contractors (施工方) do not enter the funnel: the "
        "customer of an opportunity is the end user. Record the dealer beside the "
        "end user on the opportunity.",
    )
    sales_funnel_name_key = fields.Char(
        string="Normalised Registered Name",
        compute="_compute_sales_funnel_name_key",
        store=True,
        index=True,
        help="The registered business name (工商注册名称) without spaces, case, "
        "punctuation, full-width characters and legal suffixes: two companies "
        "with the same one are the same customer.",
    )

    @api.depends("name")
    def _compute_sales_funnel_name_key(self):
        for partner in self:
            partner.sales_funnel_name_key = registered_name_key(partner.name) or False

    @api.model
    def _registered_name_twins(self, partners, company=None):
        """{partner id: id of another active top-level partner with the same
        registered name} for the top-level ``partners``, in one indexed query.
        ``company``: the company whose customers count (default: each
        partner's own; shared customers always count)."""
        partners = partners.filtered(
            lambda p: p.sales_funnel_name_key and not p.parent_id
        )
        if not partners:
            return {}
        self.flush_model(
            ["sales_funnel_name_key", "parent_id", "is_company", "company_id", "active"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (mine.id) mine.id, other.id
                  FROM res_partner mine
                  JOIN res_partner other
                    ON other.sales_funnel_name_key = mine.sales_funnel_name_key
                   AND other.id != mine.id
                   AND other.parent_id IS NULL
                   AND other.active
                 WHERE mine.id IN %(ids)s
                   AND (other.company_id IS NULL
                        OR COALESCE(%(company)s, mine.company_id) IS NULL
                        OR other.company_id = COALESCE(%(company)s, mine.company_id))
                 ORDER BY mine.id, other.id
                """,
                ids=tuple(partners.ids),
                company=company.id if company else None,
            )
        )
        return dict(rows)

    @api.constrains("name", "is_company", "parent_id", "company_id", "active")
    def _check_sales_funnel_name_key(self):
        """No two active companies under the same registered name. Data files
        and migrations (superuser) place their records themselves; the
        hand-off checks again before an order is made."""
        if self.env.su:
            return
        companies = self.filtered(lambda p: p.is_company and p.active)
        twins = self._registered_name_twins(companies)
        if twins:
            partner = self.browse(next(iter(twins)))
            other = self.browse(twins[partner.id]).sudo()
            raise ValidationError(
                self.env._(
                    "A customer is already registered as “%(other)s” (ID %(id)s): "
                    "“%(name)s” is the same registered business name (工商注册名称) "
                    "once spaces, case, punctuation, full-width characters and legal "
                    "suffixes (有限公司, Co., Ltd., Inc.…) are set aside. Use the "
                    "existing customer. If two service departments really serve "
                    "this customer, name this one “customer name + service "
                    "department” (客户名称+服务部).",
                    other=other.name,
                    id=other.id,
                    name=partner.name,
                )
            )

    @api.constrains("sales_funnel_customer_type")
    def _check_sales_funnel_customer_type(self):
        """A company that is the customer of an opportunity stays an end user."""
        marked = self.filtered(
            lambda p: p.sales_funnel_customer_type in NOT_END_USER
        ).commercial_partner_id
        if not marked:
            return
        lead = (
            self.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("type", "=", "opportunity"),
                    ("partner_id", "child_of", marked.ids),
                ],
                limit=1,
            )
        )
        if lead:
            raise ValidationError(
                self.env._(
                    "“%(partner)s” is the customer of the opportunity “%(lead)s”: "
                    "it cannot be marked as a dealer or contractor. Put the end user "
                    "as the opportunity's customer and this company as its dealer "
                    "first.",
                    partner=lead.partner_id.commercial_partner_id.name,
                    lead=lead.name,
                )
            )
