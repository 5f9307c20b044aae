import math
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import funnel_terms as terms


class CrmFunnelHealthWizard(models.TransientModel):
    """Funnel health 健康的销售漏斗 per salesperson and team.

    A healthy funnel has the weighted amount of each stage roughly equal,
    Σ weighted above the period target, conversion in line with the team and
    a manager who inspects it. The three classic failures are flagged:
    funnel not full 漏斗不满, low conversion 转化率低, weak inspection 检查不力.
    """

    _name = "crm.funnel.health.wizard"
    _description = "Funnel Health"

    date_from = fields.Date(
        string="Period From",
        required=True,
        default=lambda self: fields.Date.context_today(self).replace(day=1),
    )
    date_to = fields.Date(
        string="Period To",
        required=True,
        default=lambda self: (
            fields.Date.context_today(self).replace(day=1)
            + relativedelta(months=1, days=-1)
        ),
    )
    team_id = fields.Many2one("crm.team", string="Sales Team")
    balance_tolerance = fields.Float(
        string="Balance Tolerance (%)",
        default=50.0,
        help="A funnel is balanced when the weighted amount of each stage is "
        "within this share of the stages' mean.",
    )
    low_conversion_ratio = fields.Float(
        string="Low Conversion Below (%)",
        default=70.0,
        help="A stage converts poorly when its pass rate is below this share of "
        "the team's pass rate for the stage.",
    )
    inspection_days = fields.Integer(
        string="Inspection Within (Days)",
        default=lambda self: self.env.company.sales_funnel_inspection_days,
        help="Weak inspection: no one-to-one review of the salesperson's weekly "
        "self-checks signed off for this many days (the company's inspection "
        "interval by default).",
    )
    line_ids = fields.One2many("crm.funnel.health.line", "wizard_id")

    @api.constrains(
        "date_from",
        "date_to",
        "balance_tolerance",
        "low_conversion_ratio",
        "inspection_days",
    )
    def _check_period_and_thresholds(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    self.env._(
                        "The period starts on %(date_from)s, after its end "
                        "(%(date_to)s).",
                        date_from=wizard.date_from,
                        date_to=wizard.date_to,
                    )
                )
            if wizard.balance_tolerance < 0:
                raise ValidationError(
                    self.env._(
                        "The balance tolerance cannot be negative (%(value)s %%).",
                        value=wizard.balance_tolerance,
                    )
                )
            if not 0 <= wizard.low_conversion_ratio <= 100:
                raise ValidationError(
                    self.env._(
                        "The low conversion threshold must be between 0 and 100 %% "
                        "of the team's pass rate, not %(value)s %%.",
                        value=wizard.low_conversion_ratio,
                    )
                )
            if wizard.inspection_days < 0:
                raise ValidationError(
                    self.env._(
                        "The inspection window cannot be negative (%(days)s days).",
                        days=wizard.inspection_days,
                    )
                )

    def _targets(self, pairs):
        """{(user id, team id): SliceTarget of the salesperson for the period, or
        None}: crm.sales.target's definition (a month of a quarter target is
        its share by days). Opportunities without a salesperson have none."""
        slices = [(user.id, team.id) for user, team in pairs if user]
        targets = self.env["crm.sales.target"]._target_amounts(
            slices, self.date_from, self.date_to
        )
        return {
            (user.id, team.id): targets.get((user.id, team.id)) for user, team in pairs
        }

    def _last_inspections(self, users):
        """{salesperson id: when their last one-to-one review was signed}: the
        sign-off of a weekly self-check (crm.funnel.selfcheck) in the user's
        companies. The inspection is a fact about the salesperson whose row the
        user already sees, so it is read for everyone."""
        if not users:
            return {}
        reviews = (
            self.env["crm.funnel.selfcheck"]
            .sudo()
            ._read_group(
                [
                    ("user_id", "in", users.ids),
                    ("company_id", "in", self.env.companies.ids),
                    ("state", "=", "reviewed"),
                ],
                ["user_id"],
                ["review_date:max"],
            )
        )
        return {user.id: last for user, last in reviews}

    def _health_data(self):
        """Funnel health per salesperson and team, for dashboards.

        A list of dicts: user_id, team_id, stages (per funnel stage: stage_id,
        count, amount, weighted, win_rate, pass_rate, team_pass_rate, needed),
        weighted, won, forecast (won + weighted of the period), target (None
        without targets), target_basis (how it was read: "Prorated by days
        from the quarter target"), gap, coverage, balanced, funnel_not_full,
        low_conversion_stage_ids, last_inspection, weak_inspection.
        """
        self.ensure_one()
        Forecast = self.env["crm.funnel.forecast.report"]
        team_domain = [("team_id", "=", self.team_id.id)] if self.team_id else []
        stages = self.env["crm.stage"].search(
            terms.FUNNEL_STAGE_DOMAIN, order="sequence, id"
        )
        # The shape of the whole open funnel.
        open_groups = Forecast._read_group(
            [("state", "=", "open"), *team_domain],
            ["user_id", "team_id", "stage_id"],
            ["__count", "amount:sum", "weighted_amount:sum"],
        )
        # What counts against the period target.
        period_groups = Forecast._read_group(
            [
                ("date", ">=", self.date_from),
                ("date", "<=", self.date_to),
                *team_domain,
            ],
            ["user_id", "team_id"],
            ["weighted_amount:sum", "won_amount:sum"],
        )
        Stage = self.env["crm.funnel.stage.report"]
        person_rates = {
            (user.id, team.id, stage.id): rate
            for user, team, stage, rate in Stage._read_group(
                team_domain, ["user_id", "team_id", "stage_id"], ["pass_rate:avg"]
            )
        }
        team_rates = {
            (team.id, stage.id): rate
            for team, stage, rate in Stage._read_group(
                team_domain, ["team_id", "stage_id"], ["pass_rate:avg"]
            )
        }

        pipeline = {}
        for user, team, stage, count, amount, weighted in open_groups:
            pipeline.setdefault((user, team), {})[stage.id] = (count, amount, weighted)
        period = {
            (user, team): (weighted, won) for user, team, weighted, won in period_groups
        }
        pairs = sorted(
            set(pipeline) | set(period),
            key=lambda pair: (pair[0].name or "", pair[1].name or ""),
        )
        targets = self._targets(pairs)
        inspections = self._last_inspections(
            self.env["res.users"].union(*(user for user, _team in pairs))
        )
        since = fields.Datetime.now() - timedelta(days=self.inspection_days)

        result = []
        for user, team in pairs:
            by_stage = pipeline.get((user, team), {})
            count = sum(values[0] for values in by_stage.values())
            amount = sum(values[1] for values in by_stage.values())
            average_deal = amount / count if count else 0.0
            slice_target = targets[user.id, team.id]
            target = slice_target.amount if slice_target else None
            lines = []
            for stage in stages:
                stage_count, stage_amount, weighted = by_stage.get(
                    stage.id, (0, 0.0, 0.0)
                )
                per_deal = terms.weighted_value(average_deal, stage.win_rate)
                lines.append(
                    {
                        "stage_id": stage.id,
                        "count": stage_count,
                        "amount": stage_amount,
                        "weighted": weighted,
                        "win_rate": stage.win_rate,
                        "pass_rate": person_rates.get((user.id, team.id, stage.id)),
                        "team_pass_rate": team_rates.get((team.id, stage.id)),
                        "needed": math.ceil(target / per_deal)
                        if target and per_deal
                        else None,
                    }
                )
            weights = [line["weighted"] for line in lines]
            mean = sum(weights) / len(weights) if weights else 0.0
            balanced = bool(mean) and all(
                abs(weight - mean) <= mean * self.balance_tolerance / 100
                for weight in weights
            )
            period_weighted, won = period.get((user, team), (0.0, 0.0))
            forecast = period_weighted + won
            low = [
                line["stage_id"]
                for line in lines
                if line["pass_rate"] is not None
                and line["team_pass_rate"]
                and line["pass_rate"]
                < line["team_pass_rate"] * self.low_conversion_ratio / 100
            ]
            last = inspections.get(user.id)
            result.append(
                {
                    "user_id": user.id,
                    "team_id": team.id,
                    "stages": lines,
                    "count": count,
                    "weighted": sum(weights),
                    "won": won,
                    "forecast": forecast,
                    "target": target,
                    "target_basis": slice_target.basis if slice_target else "",
                    "gap": target - forecast if target is not None else None,
                    "coverage": forecast / target * 100 if target else None,
                    "balanced": balanced,
                    "funnel_not_full": target is not None and forecast < target,
                    "low_conversion_stage_ids": low,
                    "last_inspection": last,
                    "weak_inspection": bool(user) and (not last or last < since),
                }
            )
        return result

    def action_compute(self):
        self.ensure_one()
        self.line_ids.unlink()
        data = self._health_data()
        Stage = self.env["crm.stage"]
        self.env["crm.funnel.health.line"].create(
            [
                {
                    "wizard_id": self.id,
                    "user_id": row["user_id"],
                    "team_id": row["team_id"],
                    "opportunity_count": row["count"],
                    "weighted_amount": row["weighted"],
                    "won_amount": row["won"],
                    "forecast_amount": row["forecast"],
                    "target_amount": row["target"] or 0.0,
                    "target_basis": row["target_basis"],
                    "gap_amount": row["gap"] or 0.0,
                    "coverage": row["coverage"] or 0.0,
                    "stage_weighted": " / ".join(
                        f"{Stage.browse(line['stage_id']).name} {line['weighted']:,.0f}"
                        for line in row["stages"]
                    ),
                    "needed": " / ".join(
                        f"{Stage.browse(line['stage_id']).name} {line['needed']}"
                        for line in row["stages"]
                        if line["needed"] is not None
                    ),
                    "balanced": row["balanced"],
                    "funnel_not_full": row["funnel_not_full"],
                    "low_conversion": bool(row["low_conversion_stage_ids"]),
                    "low_conversion_stage_ids": [
                        fields.Command.set(row["low_conversion_stage_ids"])
                    ],
                    "last_inspection": row["last_inspection"],
                    "weak_inspection": row["weak_inspection"],
                }
                for row in data
            ]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Funnel Health"),
            "res_model": "crm.funnel.health.line",
            "view_mode": "list",
            "views": [(False, "list")],
            "domain": [("wizard_id", "=", self.id)],
            "target": "current",
        }
