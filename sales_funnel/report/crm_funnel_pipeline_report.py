from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL

from .. import funnel_terms as terms
from ..jobs import run_once
from .crm_funnel_pipeline_sums import (
    compact_pipeline_sums,
    kept_rows,
    setup_pipeline_sums,
)

# History events that change the stage (lost and restore keep it).
STAGE_EVENTS = ("create", "forward", "backward", "won")
EPOCH = datetime(2000, 1, 1)
# Groups and filters the kept sums answer (crm_funnel_pipeline_sums).
KEPT_DIMENSIONS = frozenset(
    ("company_id", "team_id", "owner_id", "user_id", "stage_id", "state")
)
KEPT_AGGREGATES = frozenset(
    (
        "__count",
        "opportunity_count:sum",
        "amount:sum",
        "weighted_amount:sum",
        "win_rate:avg",
        "days_in_stage:avg",
    )
)
# Groups by expected closing the sums kept per deadline month answer (a
# quarter or a year is made of whole months; a week or a day is not).
DEADLINE_GROUPS = frozenset(
    ("date_deadline:month", "date_deadline:quarter", "date_deadline:year")
)
# Context keys: the read reads the kept sums, or those by deadline month (set
# by _read_group only: the values are objects, which no RPC can send); force
# the per-row query (tests comparing both answers).
KEPT_SUMS_KEY = "sales_funnel_pipeline_kept_sums"
KEPT_SUMS = object()
KEPT_BY_DEADLINE = object()
PER_ROW = "sales_funnel_pipeline_per_row"


class CrmFunnelPipelineReport(models.Model):
    """The pipeline as it stood at the end of a past day 历史漏斗.

    Rebuilt from the stage history: for every opportunity that existed then,
    its last event up to that moment gives the stage and the status (open,
    won, lost). Salesperson and amount come from the tracked changes of the
    opportunity (mail tracking); the other columns are today's values.
    The day is read from the context key ``sales_funnel_as_of`` (default:
    today), in the user's time zone. Its pivot (``_read_group`` on stage,
    status, salespeople, team, company, and the month of the expected
    closing) is summed from the figures PostgreSQL keeps
    (``crm_funnel_pipeline_sums``), the same answer in a few thousand rows.
    """

    _name = "crm.funnel.pipeline.report"
    _description = "Pipeline as of a Date"
    _auto = False
    _rec_name = "lead_id"
    _order = "stage_sequence, amount desc, id"
    _depends = {
        "crm.lead.stage.history": [
            "lead_id",
            "event",
            "to_stage_id",
            "date",
            "win_rate",
        ],
        "crm.lead": [
            "type",
            "user_id",
            "team_id",
            "company_id",
            "partner_id",
            "expected_revenue",
            "date_deadline",
        ],
        "res.partner": ["commercial_partner_id", "company_size"],
        "crm.stage": ["sequence", "is_won"],
        "mail.message": ["model", "res_id", "date"],
        "mail.tracking.value": [
            "mail_message_id",
            "field_id",
            "old_value_integer",
            "old_value_float",
        ],
    }

    lead_id = fields.Many2one("crm.lead", string="Opportunity", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    stage_sequence = fields.Integer(readonly=True, aggregator=False)
    state = fields.Selection(
        [("open", "Open"), ("won", "Won"), ("lost", "Lost")],
        string="Status",
        readonly=True,
    )
    date_stage = fields.Datetime(
        string="In Stage Since", readonly=True, help="When it entered that stage."
    )
    days_in_stage = fields.Float(
        readonly=True, aggregator="avg", help="Days in the stage on that day."
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", readonly=True, help="Owner on that day."
    )
    owner_id = fields.Many2one(
        "res.users",
        string="Salesperson Today",
        readonly=True,
        help="The opportunity's salesperson today (who sees it).",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_size = fields.Selection(
        lambda self: self.env["res.partner"]._fields["company_size"].selection,
        readonly=True,
        help="Size of the customer's company.",
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    date_deadline = fields.Date(string="Expected Closing", readonly=True)
    company_currency = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue on that day (in the company's currency).",
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        readonly=True,
        aggregator="avg",
        help="Probability of the opportunity after its last stage event.",
    )
    weighted_amount = fields.Monetary(currency_field="company_currency", readonly=True)
    opportunity_count = fields.Integer(string="Opportunities", readonly=True)

    @api.model
    def _as_of_date(self):
        value = self.env.context.get("sales_funnel_as_of")
        return fields.Date.to_date(value) if value else fields.Date.context_today(self)

    @api.model
    def _as_of_cutoff(self):
        """The end of the chosen day in the user's time zone, as naive UTC."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        next_day = datetime.combine(self._as_of_date() + timedelta(days=1), time.min)
        return tz.localize(next_day).astimezone(pytz.utc).replace(tzinfo=None)

    # The query, in parts an extension can change (as sale.report's).

    @property
    def _table_query(self):
        return self._query()

    def _query(self):
        if self._reads_kept():
            by_deadline = self.env.context[KEPT_SUMS_KEY] is KEPT_BY_DEADLINE
            return kept_rows(self._as_of_cutoff(), by_deadline)
        return SQL(
            "WITH %s SELECT %s FROM %s WHERE %s",
            self._with(),
            self._select(),
            self._from(),
            self._where(),
        )

    def _tracked_fields(self):
        """Ids of the fields read as of the day: (user_id, expected_revenue)."""
        fields_model = self.env["ir.model.fields"]
        return (
            fields_model._get("crm.lead", "user_id").id,
            fields_model._get("crm.lead", "expected_revenue").id,
        )

    def _with(self):
        return SQL(
            """
            changes AS (
                -- The first tracked change after the cutoff holds the value of
                -- that day; one pass over the changes, joined by hash below.
                SELECT DISTINCT ON (message.res_id, tracking.field_id)
                       message.res_id AS lead_id, tracking.field_id,
                       tracking.old_value_integer, tracking.old_value_float
                  FROM mail_tracking_value tracking
                  JOIN mail_message message ON message.id = tracking.mail_message_id
                 WHERE message.model = 'crm.lead'
                   AND message.date >= %(cutoff)s
                   AND tracking.field_id IN %(tracked)s
                 ORDER BY message.res_id, tracking.field_id, message.date, message.id
            ), last AS (
                SELECT DISTINCT ON (history.lead_id)
                       history.id,
                       history.lead_id,
                       history.event,
                       history.to_stage_id,
                       history.win_rate,
                       MAX(history.date) FILTER (WHERE history.event IN %(moves)s)
                           OVER (PARTITION BY history.lead_id) AS date_stage
                  FROM crm_lead_stage_history history
                 WHERE history.date < %(cutoff)s
                 ORDER BY history.lead_id, history.date DESC, history.id DESC
            )
            """,
            moves=STAGE_EVENTS,
            cutoff=self._as_of_cutoff(),
            tracked=self._tracked_fields(),
        )

    def _select(self):
        cutoff = self._as_of_cutoff()
        amount = SQL("COALESCE(revenue.old_value_float, lead.expected_revenue)")
        return SQL(
            """
            last.lead_id::bigint * 100000000 + %(minute)s AS id,
            last.lead_id,
            last.to_stage_id AS stage_id,
            stage.sequence AS stage_sequence,
            CASE WHEN last.event = 'lost' THEN 'lost'
                 WHEN %(won)s THEN 'won'
                 ELSE 'open' END AS state,
            last.date_stage,
            EXTRACT(EPOCH FROM %(cutoff)s - last.date_stage) / 86400.0
                AS days_in_stage,
            CASE WHEN owner.lead_id IS NULL THEN lead.user_id
                 ELSE NULLIF(owner.old_value_integer, 0) END AS user_id,
            lead.user_id AS owner_id,
            lead.team_id,
            lead.company_id,
            lead.partner_id,
            commercial.company_size,
            lead.date_deadline,
            company.currency_id AS company_currency,
            %(amount)s AS amount,
            last.win_rate,
            %(weighted)s AS weighted_amount,
            1 AS opportunity_count
            """,
            cutoff=cutoff,
            # Rows of different days must not share ids (nor cached values).
            minute=int((cutoff - EPOCH).total_seconds() // 60),
            won=terms.won_stage("stage"),
            amount=amount,
            weighted=terms.weighted_amount(amount, SQL("last.win_rate")),
        )

    def _from(self):
        user_field, amount_field = self._tracked_fields()
        return SQL(
            """
            last
            JOIN crm_lead lead ON lead.id = last.lead_id
            JOIN crm_stage stage ON stage.id = last.to_stage_id
            LEFT JOIN res_company company ON company.id = lead.company_id
            LEFT JOIN res_partner partner ON partner.id = lead.partner_id
            LEFT JOIN res_partner commercial
                   ON commercial.id = partner.commercial_partner_id
            LEFT JOIN changes owner
              ON owner.lead_id = last.lead_id AND owner.field_id = %(user_field)s
            LEFT JOIN changes revenue
              ON revenue.lead_id = last.lead_id AND revenue.field_id = %(amount_field)s
            """,
            user_field=user_field,
            amount_field=amount_field,
        )

    def _where(self):
        return SQL("lead.type = 'opportunity'")

    # Groups read from the kept sums (signed rows summed per group) when the
    # groups, measures, filters and access rules are all on their dimensions;
    # grouped by expected closing month (quarter, year), from the sums kept
    # per deadline month; anything else (a customer, a filter on the expected
    # closing, the records) per row.

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), **kwargs):
        report = self
        kept = self._kept_sums(domain, groupby, aggregates)
        if kept:
            report = self.with_context(**{KEPT_SUMS_KEY: kept})
        return super(CrmFunnelPipelineReport, report)._read_group(
            domain, groupby, aggregates, having, **kwargs
        )

    @api.model
    def _kept_sums(self, domain, groupby, aggregates):
        """The kept sums that answer this read (KEPT_SUMS, KEPT_BY_DEADLINE),
        or None: read per row."""
        if self.env.context.get(PER_ROW):
            return None
        by_deadline = set(groupby) & DEADLINE_GROUPS
        if not set(groupby) - by_deadline <= KEPT_DIMENSIONS:
            return None
        if not set(aggregates) <= KEPT_AGGREGATES:
            return None
        rules = self.env["ir.rule"]._compute_domain(self._name, "read") or []
        on_dimensions = all(
            leaf[0].split(".")[0] in KEPT_DIMENSIONS
            for leaf in expression.normalize_domain(domain) + list(rules)
            if expression.is_leaf(leaf)
            and leaf not in (expression.TRUE_LEAF, expression.FALSE_LEAF)
        )
        if not on_dimensions:
            return None
        return KEPT_BY_DEADLINE if by_deadline else KEPT_SUMS

    def _reads_kept(self):
        kept = self.env.context.get(KEPT_SUMS_KEY)
        return kept is KEPT_SUMS or kept is KEPT_BY_DEADLINE

    def _read_group_select(self, aggregate_spec, query):
        if not self._reads_kept():
            return super()._read_group_select(aggregate_spec, query)

        def total(column):
            return SQL("SUM(%s)", SQL.identifier(self._table, column))

        count = total("cnt")
        if aggregate_spec == "__count":
            return SQL("COALESCE(%s, 0)", count)
        if aggregate_spec == "opportunity_count:sum":
            return SQL("NULLIF(%s, 0)", count)
        if aggregate_spec in ("amount:sum", "weighted_amount:sum"):
            column = "amount" if aggregate_spec == "amount:sum" else "weighted"
            # No opportunity: no amount (as SUM over no row), not 0.
            return SQL("CASE WHEN %s <> 0 THEN %s END", count, total(column))
        if aggregate_spec == "win_rate:avg":
            return SQL(
                "%s / NULLIF(%s, 0)", total("win_rate_sum"), total("win_rate_cnt")
            )
        # days_in_stage:avg: the average of (cutoff - date_stage) in days.
        return SQL(
            "(%s * EXTRACT(EPOCH FROM %s::timestamp) - %s) / 86400.0 / NULLIF(%s, 0)",
            total("stage_cnt"),
            self._as_of_cutoff(),
            total("stage_epoch_sum"),
            total("stage_cnt"),
        )

    def _read_group_having(self, having_domain, query):
        having = super()._read_group_having(having_domain, query)
        if not self._reads_kept():
            return having
        # Groups every opportunity left add up to nothing: not a group.
        left = SQL("SUM(%s) <> 0", SQL.identifier(self._table, "cnt"))
        return SQL("(%s AND %s)", having, left) if having else left

    def init(self):
        setup_pipeline_sums(self.env.cr)

    @api.model
    def _cron_compact(self):
        """Fold the kept movements into one row per group (same sums)."""
        run_once(self.env, lambda: compact_pipeline_sums(self.env.cr))
