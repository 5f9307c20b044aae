"""The funnel dashboard's data: one call, aggregates only (no record loops)."""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.tools import SQL, date_utils

from .. import funnel_terms as terms

STUCK_CAP = 999
# Context key: read the grades from the opportunities, not the kept sums
# (tests, comparisons).
GRADES_PER_ROW = "sales_funnel_grades_per_row"


class CrmFunnelDashboard(models.AbstractModel):
    _name = "crm.funnel.dashboard"
    _description = "Funnel Dashboard"

    @api.model
    def _period_bounds(self, period):
        """(period type, first day, last day) of a dashboard period, today."""
        return terms.period_bounds(fields.Date.context_today(self), period)

    @api.model
    @api.readonly
    def get_data(self, period=terms.DEFAULT_PERIOD, team_id=False, user_id=False):
        """Everything the dashboard shows, the periods it offers included."""
        if period not in terms.PERIODS:
            period = terms.DEFAULT_PERIOD
        kind, start, end = self._period_bounds(period)
        slice_domain = []
        if team_id:
            slice_domain.append(("team_id", "=", team_id))
        if user_id:
            slice_domain.append(("user_id", "=", user_id))
        in_period = [("period", ">=", start), ("period", "<=", end)]
        funnel = self._funnel(slice_domain + in_period)
        totals = {
            key: sum(stage[key] for stage in funnel)
            for key in ("count", "amount", "weighted", "committed")
        }
        totals["won"] = self._won(slice_domain + in_period)
        slice_target = self._target(start, end, team_id, user_id)
        target = slice_target.amount if slice_target else 0.0
        reached = totals["won"] + totals["weighted"]
        totals.update(
            target=target,
            target_basis=slice_target.basis if slice_target else "",
            coverage=reached / target if target else None,
            gap=target - reached if target else None,
        )
        company = self.env.company
        return {
            "period": period,
            "periods": terms.period_choices(self.env),
            "period_label": terms.period_name(kind, start),
            "date_from": fields.Date.to_string(start),
            "date_to": fields.Date.to_string(end),
            "currency": {
                "symbol": company.currency_id.symbol,
                "position": company.currency_id.position,
            },
            "funnel": funnel,
            "totals": totals,
            "stuck": self._stuck(team_id, user_id),
            "grades": self._grades(slice_domain),
            "need": self._need(team_id, user_id, totals["gap"]),
            "conversion": self._conversion(slice_domain),
            "teams": [
                {"id": team.id, "name": team.display_name}
                for team in self.env["crm.team"].search([])
            ],
            "users": self._users(team_id),
            "filters": {"team_id": team_id, "user_id": user_id},
        }

    def _funnel(self, domain):
        """Open opportunities per funnel stage: count, amount, weighted."""
        stages = self.env["crm.stage"].search(terms.FUNNEL_STAGE_DOMAIN)
        groups = {
            stage: sums
            for stage, *sums in self.env["crm.funnel.summary"]._read_group(
                domain,
                ["stage_id"],
                [
                    "open_count:sum",
                    "open_amount:sum",
                    "weighted_amount:sum",
                    "committed_amount:sum",
                ],
            )
        }
        rows = []
        for stage in stages:
            count, amount, weighted, committed = groups.get(stage, (0, 0, 0, 0))
            rows.append(
                {
                    "stage_id": stage.id,
                    "name": stage.name,
                    "win_rate": stage.win_rate,
                    "count": count or 0,
                    "amount": amount or 0.0,
                    "weighted": weighted or 0.0,
                    "committed": committed or 0.0,
                }
            )
        return rows

    def _grades(self, domain):
        """Open pipeline per opportunity grade (A–D, then ungraded): from the
        kept sums (crm_funnel_grade_sums.py) when the filters and record rules
        are on their columns, else from the opportunities."""
        Lead = self.env["crm.lead"]
        groups = None
        if not self.env.context.get(GRADES_PER_ROW):
            groups = self.env["crm.funnel.grade.sums"]._by_grade(domain, Lead)
        if groups is None:
            groups = Lead._read_group(
                [*terms.OPEN_OPPORTUNITY_DOMAIN, *domain],
                ["grade"],
                ["__count", "expected_revenue:sum"],
            )
        labels = dict(Lead._fields["grade"]._description_selection(self.env))
        by_grade = {grade: (count, amount) for grade, count, amount in groups}
        return [
            {
                "grade": grade or "",
                "name": labels.get(grade) or self.env._("Not graded"),
                "count": by_grade[grade][0],
                "amount": by_grade[grade][1] or 0.0,
            }
            for grade in ["a", "b", "c", "d", False]
            if grade in by_grade
        ]

    def _won(self, domain):
        [(won,)] = self.env["crm.funnel.summary"]._read_group(
            domain, aggregates=["won_amount:sum"]
        )
        return won or 0.0

    def _target(self, start, end, team_id, user_id):
        """The slice's target for the period (crm.sales.target's definition)."""
        key = (user_id or False, team_id or False)
        return self.env["crm.sales.target"]._target_amounts([key], start, end)[key]

    def _stuck(self, team_id, user_id):
        """How many opportunities are stuck (counted up to STUCK_CAP) and the ten
        that waited longest: two index walks, whatever the size of the table.
        Only opportunities the user may read count (every record rule of
        crm.lead applies, a company's own included)."""
        Lead = self.env["crm.lead"]
        domain = []
        if team_id:
            domain.append(("team_id", "=", team_id))
        if user_id:
            domain.append(("user_id", "=", user_id))
        stuck = Lead._stuck_query(domain)
        [(count,)] = self.env.execute_query(
            SQL(
                "SELECT count(*) FROM (%s LIMIT %s) stuck",
                stuck.select(),
                STUCK_CAP + 1,
            )
        )
        stuck.order = SQL("%s", SQL.identifier(stuck.table, "date_last_stage_update"))
        stuck.limit = 10
        leads = Lead.browse([row[0] for row in self.env.execute_query(stuck.select())])
        return {
            "count": min(count, STUCK_CAP),
            "more": count > STUCK_CAP,
            "leads": [
                {
                    "id": lead.id,
                    "name": lead.name,
                    "user": lead.user_id.name or "",
                    "stage": lead.stage_id.name,
                    "days": int(lead.days_in_stage),
                    "amount": lead.expected_revenue,
                }
                for lead in leads
            ],
        }

    def _conversion(self, domain):
        """Per stage over the last twelve months: entries, exits onward, pass
        rate, average days spent, and the preset win rate beside the observed
        share of exits that went on."""
        since = date_utils.start_of(fields.Date.context_today(self), "month")
        since -= relativedelta(months=11)
        groups = {
            stage: values
            for stage, *values in self.env["crm.stage.flow"]._read_group(
                domain + [("period", ">=", since)],
                ["stage_id"],
                [
                    "entered:sum",
                    "moved_on:sum",
                    "moved_back:sum",
                    "lost:sum",
                    "days_sum:sum",
                    "days_count:sum",
                ],
            )
        }
        rows = []
        for stage in self.env["crm.stage"].search(terms.FUNNEL_STAGE_DOMAIN):
            entered, moved_on, moved_back, lost, days_sum, days_count = groups.get(
                stage, (0, 0, 0, 0, 0.0, 0)
            )
            rows.append(
                {
                    "stage_id": stage.id,
                    "name": stage.name,
                    "entered": entered or 0,
                    "moved_on": moved_on or 0,
                    "moved_back": moved_back or 0,
                    "lost": lost or 0,
                    "pass_rate": moved_on / entered if entered else None,
                    "avg_days": days_sum / days_count if days_count else None,
                    "win_rate": stage.win_rate,
                }
            )
        return rows

    def _need(self, team_id, user_id, gap):
        """What the slice needs to close its gap: the new opportunities per
        stage, worked back with the conversions of the last twelve months
        (crm.sales.target._opportunities_needed), and the sentence saying it."""
        key = (user_id or False, team_id or False)
        Target = self.env["crm.sales.target"]
        slice_need = Target._opportunities_needed({key: gap})[key]
        need = slice_need.need
        stages = self.env["crm.stage"].browse([stage.stage_id for stage in need.stages])
        return {
            "state": need.state,
            "message": Target._need_message(need),
            "explanation": Target._need_explanation(slice_need),
            "basis": Target._need_basis_label(slice_need),
            "average_deal": need.average_deal,
            "stages": [
                {
                    "stage_id": stage.stage_id,
                    "name": record.name,
                    "conversion": stage.conversion,
                    "win_rate": stage.win_rate,
                    "needed": stage.needed,
                }
                for stage, record in zip(need.stages, stages, strict=True)
            ]
            if need.state == terms.NEED_NEEDED
            else [],
            "leads": need.leads,
            "lead_conversion": need.lead_conversion,
            "open_leads": slice_need.open_leads,
            "not_full": slice_need.not_full,
        }

    def _users(self, team_id):
        domain = [("share", "=", False)]
        if team_id:
            domain.append(("crm_team_member_ids.crm_team_id", "=", team_id))
        else:
            domain.append(("crm_team_member_ids", "!=", False))
        return [
            {"id": user.id, "name": user.name}
            for user in self.env["res.users"].search(domain)
        ]
