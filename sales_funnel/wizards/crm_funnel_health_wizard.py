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
        low_conversion_stage_ids, last_inspection, weak_inspection, need (the
        SliceNeed of crm.sales.target._opportunities_needed: the new
        opportunities needed per stage, worked back from the gap).
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
        listed = set(pipeline) | set(period)
        pairs = sorted(
            listed | self._salespeople_with_targets({user for user, _team in listed}),
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
            slice_target = targets[user.id, team.id]
            target = slice_target.amount if slice_target else None
            lines = []
            for stage in stages:
                stage_count, stage_amount, weighted = by_stage.get(
                    stage.id, (0, 0.0, 0.0)
                )
                lines.append(
                    {
                        "stage_id": stage.id,
                        "count": stage_count,
                        "amount": stage_amount,
                        "weighted": weighted,
                        "win_rate": stage.win_rate,
                        "pass_rate": person_rates.get((user.id, team.id, stage.id)),
                        "team_pass_rate": team_rates.get((team.id, stage.id)),
                    }
                )
            weights = [line["weighted"] for line in lines]
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
                    "balanced": self._is_balanced(weights),
                    "low_conversion_stage_ids": low,
                    "last_inspection": last,
                    "weak_inspection": bool(user) and (not last or last < since),
                }
            )
        return self._add_needs(result)

    def _salespeople_with_targets(self, listed):
        """{(salesperson, team)} of the targets of the period the user may read,
        for the salespeople not ``listed`` yet: a salesperson with a target and
        an empty funnel is listed too (what they need is the whole target)."""
        targets = self.env["crm.sales.target"].search(
            [
                ("user_id", "!=", False),
                ("date_from", "<=", self.date_to),
                ("date_to", ">=", self.date_from),
            ]
        )
        pairs = set()
        for user in targets.user_id - self.env["res.users"].union(*listed):
            team = user.sale_team_id
            if self.team_id and self.team_id not in user.crm_team_ids:
                continue
            pairs.add((user, self.team_id or team))
        return pairs

    def _is_balanced(self, weights):
        """The weighted amount of each stage is within the tolerance of their mean."""
        mean = sum(weights) / len(weights) if weights else 0.0
        return bool(mean) and all(
            abs(weight - mean) <= mean * self.balance_tolerance / 100
            for weight in weights
        )

    def _add_needs(self, rows):
        """Work each row's gap back to the new opportunities each stage needs
        (crm.sales.target._opportunities_needed): the stages' ``needed``, the
        row's ``need`` and ``funnel_not_full`` (the top of the funnel is short
        of the need)."""
        needs = self.env["crm.sales.target"]._opportunities_needed(
            {(row["user_id"], row["team_id"]): row["gap"] for row in rows}
        )
        for row in rows:
            need = needs[row["user_id"], row["team_id"]]
            needed = {stage.stage_id: stage.needed for stage in need.need.stages}
            for line in row["stages"]:
                line["needed"] = needed.get(line["stage_id"])
            row["need"] = need
            row["funnel_not_full"] = need.not_full
        return rows

    def _team_health_data(self, rows):
        """One row per sales team, in the shape of ``_health_data``'s (the
        salespeople's rows of the team added up): the team's target and gap,
        and the new opportunities the team needs, from the team's history."""
        by_team = {}
        for row in rows:
            if row["team_id"]:
                by_team.setdefault(row["team_id"], []).append(row)
        if not by_team:
            return []
        teams = self.env["crm.team"].browse(sorted(by_team)).sorted("name")
        targets = self.env["crm.sales.target"]._target_amounts(
            [(False, team.id) for team in teams], self.date_from, self.date_to
        )
        result = []
        for team in teams:
            members = by_team[team.id]
            stages = [
                {
                    "stage_id": lines[0]["stage_id"],
                    "count": sum(line["count"] for line in lines),
                    "amount": sum(line["amount"] for line in lines),
                    "weighted": sum(line["weighted"] for line in lines),
                    "win_rate": lines[0]["win_rate"],
                    "pass_rate": None,
                    "team_pass_rate": lines[0]["team_pass_rate"],
                }
                for lines in zip(*(row["stages"] for row in members), strict=True)
            ]
            forecast = sum(row["forecast"] for row in members)
            slice_target = targets[False, team.id]
            target = slice_target.amount if slice_target else None
            # Every key of a salesperson's row (False unless it applies to a team).
            row = dict.fromkeys(members[0], False)
            row.update(
                level="team",
                user_id=False,
                team_id=team.id,
                stages=stages,
                count=sum(row["count"] for row in members),
                weighted=sum(row["weighted"] for row in members),
                won=sum(row["won"] for row in members),
                forecast=forecast,
                target=target,
                target_basis=slice_target.basis if slice_target else "",
                gap=target - forecast if target is not None else None,
                coverage=forecast / target * 100 if target else None,
                balanced=self._is_balanced([stage["weighted"] for stage in stages]),
                low_conversion_stage_ids=[],
            )
            result.append(row)
        return self._add_needs(result)

    def _prepare_need_line_vals(self, row):
        """The line's values of what the row needs to reach its target."""
        need = row["need"]
        top = need.need.stages[:1]
        return {
            "level": row.get("level") or "salesperson",
            "needed": self.env["crm.sales.target"]._need_summary(need.need),
            "needed_stage_id": top[0].stage_id if top else False,
            "needed_count": top[0].needed if top else 0,
            "needed_lead_count": need.need.leads or 0,
            "open_lead_count": need.open_leads,
            "need_basis": self.env["crm.sales.target"]._need_basis_label(need),
        }

    def action_compute(self):
        self.ensure_one()
        self.line_ids.unlink()
        data = self._health_data()
        data += self._team_health_data(data)
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
                    **self._prepare_need_line_vals(row),
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
            "context": {"search_default_salespeople": 1},
            "target": "current",
        }
