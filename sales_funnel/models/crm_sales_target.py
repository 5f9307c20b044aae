from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, date_utils

PERIOD_TYPES = [
    ("month", "Month"),
    ("quarter", "Quarter"),
    ("year", "Year"),
]


class CrmSalesTarget(models.Model):
    _name = "crm.sales.target"
    _description = "Sales Target"
    _inherit = ["mail.thread"]
    _order = "date_from desc, period_type, id desc"
    _check_company_auto = True

    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        index=True,
        tracking=True,
        check_company=True,
        ondelete="cascade",
        domain="[('share', '=', False)]",
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        index=True,
        tracking=True,
        check_company=True,
        ondelete="cascade",
    )
    period_type = fields.Selection(
        PERIOD_TYPES, required=True, default="month", tracking=True
    )
    period_date = fields.Date(
        string="Period",
        required=True,
        default=fields.Date.context_today,
        help="Any day of the period: the target covers the whole month, quarter "
        "or year that contains it.",
    )
    date_from = fields.Date(
        string="Start Date",
        compute="_compute_dates",
        store=True,
        precompute=True,
        tracking=True,
    )
    date_to = fields.Date(
        string="End Date",
        compute="_compute_dates",
        store=True,
        precompute=True,
        tracking=True,
    )
    amount = fields.Monetary(
        string="Target Amount",
        required=True,
        tracking=True,
        currency_field="currency_id",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    note = fields.Text()

    _sql_constraints = [
        (
            "user_or_team",
            "CHECK((user_id IS NULL) <> (team_id IS NULL))",
            "A sales target is set either for a salesperson or for a sales team.",
        ),
        (
            "amount_positive",
            "CHECK(amount >= 0)",
            "A sales target cannot be negative.",
        ),
        # Enforced by the EXCLUDE constraints created in init(): declared here
        # (empty definition) so that a violation shows this message (RPC layer).
        (
            "user_overlap",
            "",
            "A salesperson cannot have two targets of the same period type over "
            "overlapping dates.",
        ),
        (
            "team_overlap",
            "",
            "A sales team cannot have two targets of the same period type over "
            "overlapping dates.",
        ),
    ]

    _OVERLAP_CONSTRAINTS = (
        "crm_sales_target_user_overlap",
        "crm_sales_target_team_overlap",
    )

    def init(self):
        res = super().init()
        self.env.cr.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for owner in ("user", "team"):
            name = f"crm_sales_target_{owner}_overlap"
            self.env.cr.execute(
                "SELECT 1 FROM pg_constraint WHERE conname = %s", [name]
            )
            if self.env.cr.fetchone():
                continue
            self.env.cr.execute(
                SQL(
                    """
                    ALTER TABLE %(table)s ADD CONSTRAINT %(name)s
                    EXCLUDE USING gist (
                        company_id WITH =,
                        period_type WITH =,
                        %(owner)s WITH =,
                        daterange(date_from, date_to, '[]') WITH &&
                    ) WHERE (%(owner)s IS NOT NULL)
                    DEFERRABLE INITIALLY DEFERRED
                    """,
                    table=SQL.identifier(self._table),
                    name=SQL.identifier(name),
                    owner=SQL.identifier(f"{owner}_id"),
                )
            )
        return res

    @api.depends("period_type", "period_date")
    def _compute_dates(self):
        for target in self:
            if not target.period_date or not target.period_type:
                target.date_from = target.date_to = False
                continue
            target.date_from = date_utils.start_of(
                target.period_date, target.period_type
            )
            target.date_to = date_utils.end_of(target.period_date, target.period_type)

    @api.depends("user_id", "team_id", "period_type", "date_from")
    def _compute_display_name(self):
        periods = dict(self._fields["period_type"]._description_selection(self.env))
        for target in self:
            owner = target.user_id or target.team_id
            target.display_name = self.env._(
                "%(owner)s, %(period_type)s from %(date)s",
                owner=owner.display_name or "",
                period_type=periods.get(target.period_type, ""),
                date=target.date_from or "",
            )

    @api.constrains("user_id", "team_id", "period_type", "date_from", "date_to")
    def _check_overlap(self):
        for target in self:
            if not (target.user_id or target.team_id):
                continue  # refused by the user_or_team constraint
            owner_field = "user_id" if target.user_id else "team_id"
            clash = self.search(
                [
                    ("id", "!=", target.id),
                    (owner_field, "=", target[owner_field].id),
                    ("period_type", "=", target.period_type),
                    ("company_id", "=", target.company_id.id),
                    ("date_from", "<=", target.date_to),
                    ("date_to", ">=", target.date_from),
                ],
                limit=1,
            )
            if clash:
                raise ValidationError(
                    self.env._(
                        "%(owner)s already has a target of this period type from "
                        "%(date_from)s to %(date_to)s (%(amount)s): change that "
                        "target instead of adding an overlapping one.",
                        owner=target[owner_field].display_name,
                        date_from=clash.date_from,
                        date_to=clash.date_to,
                        amount=clash.currency_id.format(clash.amount),
                    )
                )
        # The EXCLUDE constraints are deferred so that the check above explains
        # the refusal; check them now, which waits for concurrent writers.
        self.flush_model(
            ["user_id", "team_id", "period_type", "company_id", "date_from", "date_to"]
        )
        constraints = SQL(", ").join(map(SQL.identifier, self._OVERLAP_CONSTRAINTS))
        self.env.cr.execute(SQL("SET CONSTRAINTS %s IMMEDIATE", constraints))
        self.env.cr.execute(SQL("SET CONSTRAINTS %s DEFERRED", constraints))
