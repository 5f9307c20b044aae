from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, date_utils

PERIOD_TYPES = [
    ("month", "Month"),
    ("quarter", "Quarter"),
    ("year", "Year"),
]


class SliceTarget(NamedTuple):
    """The target of a slice (salesperson, team, company) for a period."""

    amount: float
    # How it was read, for the screens: "Prorated by days from the quarter target".
    basis: str
    # Part of a target of a longer period, by days.
    prorated: bool


def _period_types_by_preference(date_from, date_to):
    """The period types in the order their targets are read for a period:
    the types of which the period holds a whole period, longest first (a
    quarter's own quarterly target, else its monthly targets), then the longer
    types, shortest first (prorated by days)."""
    whole, longer = [], []
    for kind in ("year", "quarter", "month"):
        start = date_utils.start_of(date_from, kind)
        if start < date_from:
            start = date_utils.end_of(date_from, kind) + timedelta(days=1)
        (whole if date_utils.end_of(start, kind) <= date_to else longer).append(kind)
    return whole + longer[::-1]


def _share(target, date_from, date_to):
    """The part of a target falling in the period, prorated by days:
    (amount, prorated)."""
    days = (target.date_to - target.date_from).days + 1
    overlap = (min(target.date_to, date_to) - max(target.date_from, date_from)).days
    overlap += 1
    if overlap >= days:
        return target.amount, False
    return target.amount * overlap / days, True


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

    # ------------------------------------------------------------------
    # The target of a slice for a period (one definition for every screen)
    # ------------------------------------------------------------------

    @api.model
    def _target_amounts(self, slices, date_from, date_to, companies=None):
        """The target of each slice for the period ``date_from``–``date_to``.

        The one definition of "the target of a slice for a period": the funnel
        dashboard, Funnel Health and whatever compares figures with a target
        read it here.

        A slice is a pair ``(user_id, team_id)`` of ids (or False): a
        salesperson (the team is then ignored), else a sales team, else (both
        empty) the whole company. Its target for the period:

        1. its own targets, of one period type: the longest type of which the
           period holds a whole period (a quarter's quarterly target; else the
           targets inside it, e.g. its monthly targets), else the shortest
           longer type, prorated by days (April of a second-quarter target of
           91,000: 30 / 91 of it, 30,000);
        2. else, for a team, the sum of its members' targets (each read as in
           1.); for the company, the sum of the teams' targets, else of the
           salespeople's.

        Targets are read with the user's access rights, of ``companies`` only
        when given (a self-check is one company's: a salesperson with targets
        in two companies has each company's there). Returns {slice:
        SliceTarget or None (no target at all)}, in two queries whatever the
        number of slices.
        """
        date_from = fields.Date.to_date(date_from)
        date_to = fields.Date.to_date(date_to)
        slices = list(slices)
        team_ids = {team_id for user_id, team_id in slices if not user_id and team_id}
        whole_company = any(not user_id and not team_id for user_id, team_id in slices)
        members = defaultdict(set)
        if team_ids:
            for member in self.env["crm.team.member"].search_fetch(
                [("crm_team_id", "in", list(team_ids))], ["crm_team_id", "user_id"]
            ):
                members[member.crm_team_id.id].add(member.user_id.id)
        domain = [("date_from", "<=", date_to), ("date_to", ">=", date_from)]
        if companies is not None:
            domain.append(("company_id", "in", companies.ids))
        if not whole_company:
            user_ids = {user_id for user_id, _team_id in slices if user_id}
            user_ids = user_ids.union(*members.values())
            domain += [
                "|",
                ("user_id", "in", list(user_ids)),
                ("team_id", "in", list(team_ids)),
            ]
        targets = defaultdict(list)
        for target in self.search_fetch(
            domain,
            ["user_id", "team_id", "period_type", "date_from", "date_to", "amount"],
        ):
            owner = ("user", target.user_id.id) if target.user_id else None
            targets[owner or ("team", target.team_id.id)].append(target)

        preference = _period_types_by_preference(date_from, date_to)
        own = {
            owner: self._owner_target(owned, date_from, date_to, preference)
            for owner, owned in targets.items()
        }
        result = {}
        for key in slices:
            user_id, team_id = key
            if user_id:
                result[key] = own.get(("user", user_id))
            elif team_id:
                result[key] = own.get(("team", team_id)) or self._sum_targets(
                    [own.get(("user", member)) for member in members[team_id]],
                    self.env._("Sum of the members' targets"),
                    self.env._("Sum of the members' targets, prorated by days"),
                )
            else:
                result[key] = self._sum_targets(
                    [value for owner, value in own.items() if owner[0] == "team"],
                    self.env._("Sum of the teams' targets"),
                    self.env._("Sum of the teams' targets, prorated by days"),
                ) or self._sum_targets(
                    [value for owner, value in own.items() if owner[0] == "user"],
                    self.env._("Sum of the salespeople's targets"),
                    self.env._("Sum of the salespeople's targets, prorated by days"),
                )
        return result

    @api.model
    def _owner_target(self, targets, date_from, date_to, preference):
        """The SliceTarget of one salesperson's or team's own targets."""
        by_type = defaultdict(list)
        for target in targets:
            by_type[target.period_type].append(target)
        kind = next(kind for kind in preference if kind in by_type)
        shares = [_share(target, date_from, date_to) for target in by_type[kind]]
        amount = sum(share for share, _prorated in shares)
        prorated = any(prorated for _share_amount, prorated in shares)
        period = {
            "month": self.env._("month"),
            "quarter": self.env._("quarter"),
            "year": self.env._("year"),
        }[kind]
        if prorated:
            basis = self.env._(
                "Prorated by days from the %(period)s target", period=period
            )
        elif len(shares) > 1:
            basis = self.env._("Sum of the %(period)s targets", period=period)
        else:
            basis = self.env._("Target of the %(period)s", period=period)
        return SliceTarget(self._round_target(amount), basis, prorated)

    @api.model
    def _sum_targets(self, values, basis, prorated_basis):
        values = [value for value in values if value]
        if not values:
            return None
        prorated = any(value.prorated for value in values)
        return SliceTarget(
            self._round_target(sum(value.amount for value in values)),
            prorated_basis if prorated else basis,
            prorated,
        )

    @api.model
    def _round_target(self, amount):
        return self.env.company.currency_id.round(amount)
