"""Opportunities needed to reach the target, per slice (salesperson, team,
company): the observed rates that ``funnel_terms.opportunities_needed`` works
back from. Funnel Health and the funnel dashboard read them here."""

from collections import defaultdict
from datetime import datetime, time
from typing import NamedTuple

from odoo import api, fields, models
from odoo.tools import SQL, format_amount

from .. import funnel_terms as terms

# Context key: count the leads themselves, not the kept counts (tests,
# comparisons).
LEADS_PER_ROW = "sales_funnel_need_leads_per_row"


class SliceNeed(NamedTuple):
    """What a slice needs to close its gap, and whether its funnel is full."""

    need: terms.FunnelNeed
    open_leads: int
    not_full: bool
    # Whose history gave the rates ("user", "team", "company"), or "" without.
    basis: str


def _levels(user_id, team_id):
    """The histories a slice's rates may come from, its own first: a
    salesperson with too little history takes their team's, then the
    company's."""
    levels = []
    if user_id:
        levels.append(("user", user_id))
    if team_id:
        levels.append(("team", team_id))
    levels.append(("company",))
    return levels


def _level_keys(user, team):
    keys = [("company",)]
    if user:
        keys.append(("user", user.id))
    if team:
        keys.append(("team", team.id))
    return keys


class CrmSalesTarget(models.Model):
    _inherit = "crm.sales.target"

    @api.model
    def _opportunities_needed(self, gaps):
        """{slice: SliceNeed} for ``gaps`` ({(user id, team id): gap of the
        period, None without a target}).

        The rates are those of the last twelve months, read from the stage flow
        (stage conversions), the funnel sums (average won deal) and the leads
        (lead conversion): counts only, over the allowed companies whatever the
        user may read, so that a salesperson with little history is given the
        rates of their team, else of the company (``SliceNeed.basis`` says
        whose). Four queries, whatever the number of slices.
        """
        gaps = dict(gaps)
        if not gaps:
            return {}
        today = fields.Date.context_today(self)
        since = terms.need_history_start(today)
        company_domain = [("company_id", "in", [*self.env.companies.ids, False])]
        flows = self._need_stage_flows(since, company_domain)
        won = self._need_won_deals(since, today, company_domain)
        leads, open_leads = self._need_leads(since)

        stages = self.env["crm.stage"].search(
            terms.FUNNEL_STAGE_DOMAIN, order="sequence, id"
        )
        # The stages on the way to Won: those the company's opportunities went
        # through in the last twelve months.
        company_flows = flows.get(("company",), {})
        on_path = stages.filtered(lambda stage: stage.id in company_flows)

        result = {}
        for key, gap in gaps.items():
            user_id, team_id = key
            path = on_path.filtered(
                lambda stage, team_id=team_id: (
                    not team_id or stage.team_id.id in (False, team_id)
                )
            )
            levels = _levels(user_id, team_id)
            basis, conversions, average_deal = "", [], 0.0
            for level in levels:
                by_stage = flows.get(level, {})
                level_conversions = [
                    (
                        stage.id,
                        terms.stage_conversion(*by_stage.get(stage.id, (0, 0))),
                    )
                    for stage in path
                ]
                count, amount = won.get(level, (0, 0.0))
                level_average = amount / count if count else 0.0
                conversions, average_deal = level_conversions, level_average
                if level_average and all(rate for _id, rate in level_conversions):
                    basis = level[0]
                    break
            leads_rate = next(
                (
                    rate
                    for rate in (
                        terms.lead_conversion(*leads.get(level, (0, 0)))
                        for level in levels
                    )
                    if rate
                ),
                None,
            )
            need = terms.opportunities_needed(
                gap, average_deal, conversions, leads_rate
            )
            waiting = open_leads.get(levels[0], 0)
            result[key] = SliceNeed(
                need,
                waiting,
                terms.funnel_not_full(need, waiting),
                basis if need.state == terms.NEED_NEEDED else "",
            )
        return result

    # ------------------------------------------------------------------
    # How the need reads (the dashboard, Funnel Health), in the user's language
    # ------------------------------------------------------------------

    @api.model
    def _need_basis_label(self, slice_need):
        if slice_need.need.state == terms.NEED_NO_HISTORY:
            return self.env._("Not enough history")
        return {
            "user": self.env._("Own history"),
            "team": self.env._("The team's history"),
            "company": self.env._("The company's history"),
        }.get(slice_need.basis, "")

    @api.model
    def _need_summary(self, need):
        """Short form for a list column: "Verification 80 / Development 40 /
        … (leads 160)", or what stands in its place."""
        if need.state == terms.NEED_NO_TARGET:
            return ""
        if need.state == terms.NEED_REACHED:
            return self.env._("Nothing needed")
        if need.state == terms.NEED_NO_HISTORY:
            return self.env._("Not enough history")
        names = dict(
            self.env["crm.stage"]
            .browse([stage.stage_id for stage in need.stages])
            .mapped(lambda stage: (stage.id, stage.name))
        )
        summary = " / ".join(
            f"{names[stage.stage_id]} {stage.needed}" for stage in need.stages
        )
        if need.leads:
            summary += " " + self.env._("(leads %(count)s)", count=need.leads)
        return summary

    @api.model
    def _need_explanation(self, slice_need):
        """How the figures were worked out, with the rates used."""
        need = slice_need.need
        if need.state != terms.NEED_NEEDED:
            return ""
        explanation = self.env._(
            "Needed = gap %(gap)s ÷ (average deal won %(average)s × share of the "
            "opportunities entering the stage that end won). Rates of the last "
            "twelve months: %(basis)s.",
            gap=format_amount(self.env, need.gap, self.env.company.currency_id),
            average=format_amount(
                self.env, need.average_deal, self.env.company.currency_id
            ),
            basis=self._need_basis_label(slice_need),
        )
        if need.lead_conversion:
            explanation += " " + self.env._(
                "Lead conversion %(rate)s %%; open leads: %(count)s.",
                rate=round(need.lead_conversion * 100),
                count=slice_need.open_leads,
            )
        return explanation

    @api.model
    def _need_message(self, need):
        """The sentence of the dashboard."""
        if need.state == terms.NEED_NO_TARGET:
            return self.env._("No target for this period: nothing to work back from.")
        if need.state == terms.NEED_REACHED:
            return self.env._(
                "Won and weighted opportunities cover the target: no new opportunity "
                "is needed."
            )
        if need.state == terms.NEED_NO_HISTORY:
            return self.env._(
                "Not enough history to work back from the target: no deal won, or a "
                "stage without any opportunity leaving it, in the last twelve months."
            )
        stages = self.env["crm.stage"].browse([stage.stage_id for stage in need.stages])
        needs = ", ".join(
            self.env._("%(count)s in %(stage)s", count=stage.needed, stage=name)
            for stage, name in zip(need.stages, stages.mapped("name"), strict=True)
        )
        message = self.env._(
            "To reach the target you need new opportunities: %(needs)s.", needs=needs
        )
        if need.leads:
            message += " " + self.env._(
                "New leads needed at the lead conversion observed: %(count)s.",
                count=need.leads,
            )
        return message

    @api.model
    def _need_stage_flows(self, since, company_domain):
        """{level: {stage id: (moved on, lost)}} since ``since``, and the
        stages entered: a stage only entered has (0, 0), its outcome unknown."""
        flows = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for user, team, stage, entered, moved_on, lost in (
            self.env["crm.stage.flow"]
            .sudo()
            ._read_group(
                [("period", ">=", since), *company_domain],
                ["user_id", "team_id", "stage_id"],
                ["entered:sum", "moved_on:sum", "lost:sum"],
            )
        ):
            if not (entered or moved_on or lost):
                continue
            for level in _level_keys(user, team):
                sums = flows[level][stage.id]
                sums[0] += moved_on or 0
                sums[1] += lost or 0
        return {
            level: {stage_id: tuple(sums) for stage_id, sums in by_stage.items()}
            for level, by_stage in flows.items()
        }

    @api.model
    def _need_won_deals(self, since, today, company_domain):
        """{level: (deals won, amount won)} since ``since``."""
        won = defaultdict(lambda: [0, 0.0])
        for user, team, count, amount in (
            self.env["crm.funnel.summary"]
            .sudo()
            ._read_group(
                [("period", ">=", since), ("period", "<=", today), *company_domain],
                ["user_id", "team_id"],
                ["won_count:sum", "won_amount:sum"],
            )
        ):
            for level in _level_keys(user, team):
                won[level][0] += count or 0
                won[level][1] += amount or 0.0
        return {level: tuple(values) for level, values in won.items()}

    @api.model
    def _need_leads(self, since):
        """({level: (leads converted, leads lost)} of the leads created since
        ``since``, {level: open leads}): from the kept counts
        (crm_lead_conversion_sums.py), or from the leads themselves with the
        context key ``LEADS_PER_ROW``. Levels without any count are left out."""
        if self.env.context.get(LEADS_PER_ROW):
            rows = self._need_leads_per_row(since)
        else:
            rows = self.env["crm.lead.conversion.sums"]._counts(
                since, self.env.companies.ids
            )
        decided = defaultdict(lambda: [0, 0])
        waiting = defaultdict(int)
        Users, Teams = self.env["res.users"], self.env["crm.team"]
        for user_id, team_id, converted, lost, open_count in rows:
            for level in _level_keys(Users.browse(user_id), Teams.browse(team_id)):
                decided[level][0] += converted
                decided[level][1] += lost
                waiting[level] += open_count
        return (
            {level: tuple(values) for level, values in decided.items() if any(values)},
            defaultdict(int, {level: n for level, n in waiting.items() if n}),
        )

    @api.model
    def _need_leads_per_row(self, since):
        """The rows of ``_need_leads`` counted from crm_lead, in one query (the
        partial indexes on the lead type and the conversion date keep it off
        the opportunities)."""
        Lead = self.env["crm.lead"]
        Lead.flush_model(
            [
                "type",
                "active",
                "create_date",
                "date_conversion",
                "user_id",
                "team_id",
                "company_id",
            ]
        )
        companies = tuple(self.env.companies.ids)
        return self.env.execute_query(
            SQL(
                """
                SELECT user_id, team_id,
                       count(*) FILTER (WHERE type = 'opportunity'),
                       count(*) FILTER (WHERE type = 'lead' AND NOT active
                                          AND create_date >= %(since)s),
                       count(*) FILTER (WHERE type = 'lead' AND active)
                  FROM crm_lead
                 WHERE (company_id IN %(companies)s OR company_id IS NULL)
                   AND (type = 'lead'
                        OR (date_conversion IS NOT NULL
                            AND create_date >= %(since)s))
                 GROUP BY user_id, team_id
                """,
                since=datetime.combine(since, time.min),
                companies=companies,
            )
        )


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    # The lead conversion of the last twelve months reads the converted leads
    # without a scan of the opportunities (few were leads).
    date_conversion = fields.Datetime(index="btree_not_null")
