"""Forecast Details answered from the kept sums of the Funnel Forecast.

The pivot of Forecast Details groups one row per opportunity (a million of
them). When every groupby, aggregate and domain leaf (record rules included)
only reads company, team, salesperson, stage, state and month, the report's
``read_group`` runs unchanged on ``crm_funnel_delta`` summed per those
dimensions instead: each of its rows stands for all the opportunities of one
(company, team, salesperson, stage, month, won) and carries their sums,
converted and weighted as the per-row query does. Any other request (customer,
industry, grade, average win rate, a day, the records themselves) runs per row.

The deltas date won deals in UTC; the report dates them in the user's time
zone. The deals closed between a UTC month start and the local one (a few
hours per month) are read per row through indexes and moved to their local
month, so the answer is the per-row answer in any time zone.
"""

import re
from datetime import date, timedelta

from odoo import api, models, tools
from odoo.osv import expression
from odoo.tools import SQL

from .. import funnel_terms as terms
from .crm_funnel_forecast_report import FORECAST_INDEX_WHERE

# Context value selecting the kept sums as the report's table. An object, so
# that no RPC can send it: only this module's read_group sets it.
KEPT_SUMS = object()
KEPT_SUMS_KEY = "sales_funnel_forecast_kept_sums"
# Context key forcing the per-row path (the tests compare both answers).
PER_ROW_KEY = "sales_funnel_forecast_per_row"

# Fields whose value is the same for every opportunity of a kept row.
DIMENSIONS = {"stage_id", "user_id", "team_id", "company_id", "state", "is_closing"}
GROUPBYS = DIMENSIONS | {"date:month", "date:quarter", "date:year"}
AGGREGATES = {
    f"{name}:sum"
    for name in (
        "amount",
        "weighted_amount",
        "committed_amount",
        "won_amount",
        "forecast_amount",
        "opportunity_count",
    )
} | {"__count"}
# A kept row stands for several opportunities: the row count is their sum.
COUNT_AS_SUM = "opportunity_count:sum"

# Won deals closed without a closing date (created won) are found through it.
UNCLOSED_INDEX = "crm_lead_sf_forecast_unclosed_idx"


def _month_bound(operator, value):
    """The date leaf keeps or drops whole months: a bound on a month start
    (>=, <) or on a month end (<=, >), or no date at all."""
    if value is False:
        return operator in ("=", "!=")
    if isinstance(value, str) and len(value) == 10:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return False
    if type(value) is not date:
        return False
    if operator in (">=", "<"):
        return value.day == 1
    if operator in ("<=", ">"):
        return (value + timedelta(days=1)).day == 1
    return False


def _leaf_on_kept_rows(leaf):
    """The leaf has one value for all the opportunities of a kept row."""
    if expression.is_boolean(leaf):
        return True
    left, operator, value = leaf
    if left.split(".")[0] in DIMENSIONS:
        return True
    return left == "date" and _month_bound(operator, value)


def _domain_on_kept_rows(domain):
    return all(
        _leaf_on_kept_rows(element)
        for element in expression.normalize_domain(domain)
        if expression.is_leaf(element)
    )


def _order_on_kept_rows(order):
    """The read_group order with the row count read as the opportunities'."""
    return re.sub(r"\b__count\b", COUNT_AS_SUM, order) if order else order


class CrmFunnelForecastReport(models.Model):
    _inherit = "crm.funnel.forecast.report"

    def init(self):
        result = super().init()
        tools.create_index(
            self.env.cr,
            UNCLOSED_INDEX,
            "crm_lead",
            ["stage_id", "date_last_stage_update"],
            where=f"{FORECAST_INDEX_WHERE} AND date_closed IS NULL",
        )
        return result

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        if not self._read_group_on_kept_sums(domain, groupby, aggregates, having):
            return super()._read_group(
                domain, groupby, aggregates, having, offset, limit, order
            )
        kept = self.with_context(**{KEPT_SUMS_KEY: KEPT_SUMS})
        rows = super(CrmFunnelForecastReport, kept)._read_group(
            domain,
            groupby,
            [COUNT_AS_SUM if spec == "__count" else spec for spec in aggregates],
            having,
            offset,
            limit,
            _order_on_kept_rows(order),
        )
        # The group records belong to the caller's environment.
        return [tuple(map(self._in_own_env, row)) for row in rows]

    def _in_own_env(self, value):
        if isinstance(value, models.BaseModel):
            return value.with_env(self.env)
        return value

    def _read_group_on_kept_sums(self, domain, groupby, aggregates, having):
        if having or self.env.context.get(PER_ROW_KEY):
            return False
        if not set(groupby) <= GROUPBYS or not set(aggregates) <= AGGREGATES:
            return False
        rules = [] if self.env.su else self.env["ir.rule"]._compute_domain(self._name)
        return _domain_on_kept_rows(domain) and _domain_on_kept_rows(rules)

    def _query(self):
        if self.env.context.get(KEPT_SUMS_KEY) is KEPT_SUMS:
            return self._kept_query()
        return super()._query()

    # The kept rows, with the columns of the per-row report they answer for.

    def _kept_query(self):
        amount = SQL("(kept.amount * COALESCE(account_currency_table.rate, 1))")
        weighted = terms.weighted_amount(amount)
        closing = terms.closing_stage(SQL("kept.stage_id"), SQL("kept.team_id"))
        return SQL(
            """
            SELECT kept.company_id, kept.team_id, kept.user_id, kept.stage_id,
                   CASE WHEN kept.won THEN 'won' ELSE 'open' END AS state,
                   kept.period AS date,
                   (NOT kept.won AND %(closing)s) AS is_closing,
                   %(amount)s AS amount,
                   CASE WHEN kept.won THEN 0.0 ELSE %(weighted)s END
                       AS weighted_amount,
                   CASE WHEN NOT kept.won AND %(closing)s THEN %(amount)s ELSE 0.0 END
                       AS committed_amount,
                   CASE WHEN kept.won THEN %(amount)s ELSE 0.0 END AS won_amount,
                   CASE WHEN kept.won THEN %(amount)s ELSE %(weighted)s END
                       AS forecast_amount,
                   kept.cnt::integer AS opportunity_count
              FROM (%(sums)s) kept
              JOIN crm_stage stage ON stage.id = kept.stage_id
              LEFT JOIN %(currency_table)s
                     ON account_currency_table.company_id = kept.company_id
            """,
            closing=closing,
            amount=amount,
            weighted=weighted,
            sums=self._kept_sums(),
            currency_table=self.env["res.currency"]._get_simple_currency_table(
                self.env.companies
            ),
        )

    def _kept_sums(self):
        """The deltas summed per group, won deals in the month of the user's
        time zone; a row per group that has opportunities."""
        moves = self._local_month_moves()
        return SQL(
            """
            SELECT company_id, team_id, user_id, stage_id, period, won,
                   sum(cnt) AS cnt, sum(amount) AS amount
              FROM (SELECT company_id, team_id, user_id, stage_id, period, won,
                           cnt, amount
                      FROM crm_funnel_delta
                    %(moves)s) deltas
             GROUP BY company_id, team_id, user_id, stage_id, period, won
            HAVING sum(cnt) <> 0
            """,
            moves=SQL("UNION ALL %s", moves) if moves else SQL(),
        )

    def _local_month_windows(self, tz):
        """[(since, until, won stage ids)]: the UTC moments between the UTC
        start and the local start of the months of won deals (and of the
        months after)."""
        self.env["crm.lead"].flush_model()
        self.env["crm.stage"].flush_model()
        return self.env.execute_query(
            SQL(
                """
                SELECT LEAST(utc_start, local_start),
                       GREATEST(utc_start, local_start),
                       (SELECT array_agg(id) FROM crm_stage WHERE %(won)s)
                  FROM (SELECT start::timestamp AS utc_start,
                               start::timestamp AT TIME ZONE %(tz)s
                                   AT TIME ZONE 'UTC' AS local_start
                          FROM (SELECT period FROM crm_funnel_delta WHERE won
                                UNION
                                SELECT (period + interval '1 month')::date
                                  FROM crm_funnel_delta WHERE won
                               ) month_starts (start)
                         WHERE start IS NOT NULL) starts
                 WHERE utc_start <> local_start
                 ORDER BY 1
                """,
                tz=tz,
                won=terms.won_stage("crm_stage"),
            )
        )

    def _local_month_moves(self):
        """Deltas moving the won deals whose UTC month is not their local one
        from the first to the second, or None. They closed between the UTC
        start of a month and its start in the time zone: a few hours per
        month, read through the indexes on the closing date (or, for deals
        created won, on the won stage and the day they entered it). The
        windows are constants so that PostgreSQL sees how few rows they hold."""
        tz = self._period_tz()
        windows = self._local_month_windows(tz) if tz != "UTC" else []
        if not windows:
            return None

        def within(column):
            return SQL(" OR ").join(
                SQL("(%s >= %s AND %s < %s)", column, since, column, until)
                for since, until, _won_stages in windows
            )

        utc_month = SQL(
            "date_trunc('month', %s)::date", terms.won_deal_date("lead", None)
        )
        local_month = SQL(
            "date_trunc('month', %s)::date", terms.won_deal_date("lead", tz)
        )
        return SQL(
            """
            SELECT lead.company_id, lead.team_id, lead.user_id, lead.stage_id,
                   move.period, TRUE, move.cnt,
                   move.cnt * COALESCE(lead.expected_revenue, 0)
              FROM crm_lead lead
              JOIN crm_stage stage ON stage.id = lead.stage_id
             CROSS JOIN LATERAL (
                   VALUES (%(utc_month)s, -1), (%(local_month)s, 1)
                   ) move (period, cnt)
             WHERE %(won)s
               AND (%(closed_within)s
                    OR (lead.date_closed IS NULL
                        AND lead.stage_id = ANY(%(won_stages)s)
                        AND (%(entered_within)s)))
               AND %(utc_month)s <> %(local_month)s
            """,
            won=terms.won_opportunity("lead", "stage"),
            closed_within=within(SQL("lead.date_closed")),
            entered_within=within(SQL("lead.date_last_stage_update")),
            won_stages=windows[0][2] or [],
            utc_month=utc_month,
            local_month=local_month,
        )
