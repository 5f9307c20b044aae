"""The lead pool (线索池): leads from campaigns, the website, phone calls and
interviews wait there until pre-sales staff screen them: claim or assign one,
merge duplicates (Odoo's merge wizard), disqualify it with a reason (Odoo's
Lost wizard) or qualify it into an opportunity that enters Verification
(Odoo's convert wizard, asking for the source).

A lead is unworked while nobody claimed it or was assigned it: crm's
Assignment Date (``date_open``, set when a lead first gets a salesperson) is
empty. Its age is counted from its creation; a partial index on the creation
date of the unworked leads keeps the filter "unworked for more than N days"
quick on a big pool.
"""

from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import UserError

_AGE_OPERATORS = (">", ">=", "<", "<=", "=")


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    unworked_days = fields.Integer(
        string="Days Unworked",
        compute="_compute_unworked_days",
        search="_search_unworked_days",
        help="Lead pool: days since the lead arrived, while nobody has claimed it "
        "or been assigned it.",
    )

    def init(self):
        res = super().init()
        tools.create_index(
            self.env.cr,
            "crm_lead_sales_funnel_unworked_idx",
            self._table,
            ["create_date"],
            where="type = 'lead' AND active AND date_open IS NULL",
        )
        return res

    @api.depends("type", "active", "date_open", "create_date")
    def _compute_unworked_days(self):
        now = fields.Datetime.now()
        for lead in self:
            unworked = (
                lead.type == "lead"
                and lead.active
                and not lead.date_open
                and lead.create_date
            )
            lead.unworked_days = (now - lead.create_date).days if unworked else 0

    def _search_unworked_days(self, operator, value):
        if operator not in _AGE_OPERATORS or not isinstance(value, int):
            raise UserError(self.env._("Unsupported search on “Days Unworked”."))
        now = fields.Datetime.now()
        # Whole days: "more than N days" is "at least N + 1 days".
        days = {">": value + 1, "<=": value + 1}.get(operator, value)
        cutoff = now - timedelta(days=days)
        unworked = [("type", "=", "lead"), ("date_open", "=", False)]
        if operator in (">", ">="):
            return [*unworked, ("create_date", "<=", cutoff)]
        if operator in ("<", "<="):
            return [*unworked, ("create_date", ">", cutoff)]
        return [
            *unworked,
            ("create_date", "<=", cutoff),
            ("create_date", ">", cutoff - timedelta(days=1)),
        ]

    def action_claim(self):
        """Pre-sales staff take leads of the pool for themselves; a lead
        someone else holds is only reassigned by assigning it."""
        not_leads = self.filtered(lambda lead: lead.type != "lead")
        if not_leads:
            raise UserError(
                self.env._(
                    "Only leads of the pool are claimed: “%(name)s” is already an "
                    "opportunity.",
                    name=not_leads[0].name,
                )
            )
        taken = self.filtered(
            lambda lead: lead.user_id and lead.user_id != self.env.user
        )
        if taken:
            raise UserError(
                self.env._(
                    "“%(name)s” is already claimed by %(user)s: ask them or a sales "
                    "manager to assign it to you.",
                    name=taken[0].name,
                    user=taken[0].user_id.name,
                )
            )
        self.filtered(lambda lead: not lead.user_id).write({"user_id": self.env.uid})
        return True
