from datetime import datetime

import pytz

from odoo import api, models
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.query import Query

from ..jobs import run_once
from ..report import crm_lead_kanban_sums as kept

# Context key: read the rows as stock Odoo does (tests compare both answers).
STOCK_READ = "sales_funnel_stock_read"

_OPERATORS = ("=", "!=", "in", "not in")
_LOGIC = ("&", "|", "!")
_CONSTANT_LEAVES = (tuple(expression.TRUE_LEAF), tuple(expression.FALSE_LEAF))


def _kept_value(fname, value):
    if isinstance(value, bool | int):  # ids, False, the active flag
        return True
    return fname == "type" and isinstance(value, str)


def _kept_domain(domain):
    """Whether every condition of ``domain`` tests a kept column with a
    plain value: then its SQL reads only those columns of crm_lead."""
    for item in domain:
        if isinstance(item, str):
            if item not in _LOGIC:
                return False
            continue
        if not isinstance(item, list | tuple) or len(item) != 3:
            return False
        if tuple(item) in _CONSTANT_LEAVES:
            continue
        fname, operator, value = item
        if fname not in kept.GROUP_COLUMNS or operator not in _OPERATORS:
            return False
        values = value if isinstance(value, list | tuple) else [value]
        if not all(_kept_value(fname, v) for v in values):
            return False
    return True


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    def init(self):
        res = super().init()
        cr = self.env.cr
        cr.execute(kept.SETUP)
        # First install or upgrade to this code: sum the table once; from then
        # on the triggers keep the sums (a change of kept.KEPT_FIELDS needs
        # kept.REBUILD in a migration).
        cr.execute("SELECT 1 FROM crm_lead_kanban_delta LIMIT 1")
        if not cr.fetchone():
            cr.execute(kept.FILL)
        return res

    @api.model
    def _cron_compact_kanban_sums(self):
        """Fold the kanban's deltas into one row per group (same sums)."""
        run_once(self.env, lambda: self.env.cr.execute(kept.COMPACT))

    # ------------------------------------------------------------------
    # The progress bar: activity colours of the columns
    # ------------------------------------------------------------------

    @api.model
    @api.readonly
    def read_progress_bar(self, domain, group_by, progress_bar):
        field = self._fields.get(group_by)
        if (
            progress_bar.get("field") != "activity_state"
            or self.env.context.get(STOCK_READ)
            or not (field and field.store and field.type in ("many2one", "selection"))
        ):
            return super().read_progress_bar(domain, group_by, progress_bar)
        # Only opportunities with an activity have a colour; the web client
        # makes the rest of the column grey. Count those: the leads of the
        # domain (record rules included) joined to their activities, one state
        # per lead, instead of the stock left join of every lead of the domain
        # with the states of every activity of the model.
        self.check_field_access_rights("read", ["activity_state"])
        query = self._search(domain)
        if query.is_empty():
            return {}
        lead_id = SQL.identifier(self._table, "id")
        query.add_join(
            "JOIN", "sf_activity", SQL.identifier("mail_activity"),
            SQL(
                "sf_activity.res_id = %s AND sf_activity.res_model = %s"
                " AND sf_activity.active",
                lead_id, self._name,
            ),
        )  # fmt: skip
        group = self._read_group_groupby(group_by, query)
        query.groupby = SQL("%s, %s", lead_id, group)
        per_lead = query.select(
            SQL("%s AS value", group), SQL("%s AS state", self._activity_state())
        )
        rows = self.env.execute_query(
            SQL(
                "SELECT value, state, COUNT(*) FROM (%s) per_lead"
                " GROUP BY value, state",
                per_lead,
            )
        )
        colors = progress_bar["colors"]
        result = {}
        for value, state, count in rows:
            counts = result.setdefault(str(value or False), dict.fromkeys(colors, 0))
            if state in counts:
                counts[state] += count
        return result

    def _activity_state(self):
        """SQL: the state of ``mail.activity.mixin``'s grouping over the
        activities ``sf_activity`` of one record: its earliest deadline against
        today in the activity's time zone, else the user's."""
        self.env["mail.activity"].flush_model(
            ["res_model", "res_id", "active", "date_deadline", "user_tz"]
        )
        tz = self.env.context.get("tz")
        if tz not in pytz.all_timezones_set:
            tz = "UTC"
        days = SQL(
            "min(sf_activity.date_deadline - (%s AT TIME ZONE"
            " COALESCE(sf_activity.user_tz, %s))::date)",
            pytz.utc.localize(datetime.utcnow()),
            tz,
        )
        return SQL(
            """CASE WHEN %(days)s > 0 THEN 'planned'
                    WHEN %(days)s < 0 THEN 'overdue'
                    WHEN %(days)s = 0 THEN 'today' END""",
            days=days,
        )

    # ------------------------------------------------------------------
    # Reads answered from the kept sums
    # ------------------------------------------------------------------

    @api.model
    def _kanban_kept_query(self, domain):
        """The Query of ``domain`` on the kanban's delta table (crm_lead's
        alias, its WHERE clause with the user's record rules), or None when
        a condition reads anything but the kept columns."""
        if self.env.context.get(STOCK_READ):
            return None
        domain = list(domain or [])
        if not _kept_domain(domain):
            return None
        if not self.env.su:
            rules = self.env["ir.rule"]._compute_domain(self._name, "read")
            if not _kept_domain(rules or []):
                return None
        search = self._search(domain)
        if search.is_empty():
            return search
        if search._joins or len(search._tables) != 1:
            return None
        self.flush_model([*kept.GROUP_COLUMNS, *kept.KEPT_FIELDS])
        query = Query(self.env, self._table, SQL.identifier(kept.DELTAS.table))
        if search._where_clauses:
            query.add_where(search.where_clause)
        return query

    def _kanban_kept_aggregate(self, spec):
        """SQL of an aggregate ``field:func`` over the deltas, or None."""
        if spec == "__count":
            return SQL("COALESCE(SUM(%s), 0)", SQL.identifier(self._table, "cnt"))
        fname, _sep, func = spec.partition(":")
        if fname not in kept.KEPT_FIELDS or func not in ("sum", "avg", "count"):
            return None
        self.check_field_access_rights("read", [fname])
        total = SQL("SUM(%s)", SQL.identifier(self._table, fname))
        count = SQL("SUM(%s)", SQL.identifier(self._table, kept.count_column(fname)))
        if func == "count":
            return SQL("COALESCE(%s, 0)", count)
        # The type PostgreSQL gives SUM/AVG of the column on crm_lead.
        column = self._fields[fname].column_type[1]
        if func == "sum":
            cast = {"int4": "int8"}.get(column, column)
            return SQL("(CASE WHEN %s > 0 THEN %s END)::%s", count, total, SQL(cast))
        cast = "float8" if column == "float8" else "numeric"
        return SQL("(%s / NULLIF(%s, 0))::%s", total, count, SQL(cast))

    @api.model
    def _read_group(
        self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None,
        order=None,
    ):  # fmt: skip
        result = self._read_group_kept(
            domain, groupby, aggregates, having, order, offset=offset, limit=limit
        )
        if result is not None:
            return result
        return super()._read_group(
            domain, groupby, aggregates, having, offset, limit, order
        )

    def _read_group_kept(
        self, domain, groupby, aggregates, having, order, offset=0, limit=None
    ):
        """``_read_group`` from the kept sums (the kanban's columns), or None
        when the grouping, an aggregate, the order or the domain is not kept."""
        groupby, aggregates = list(groupby), list(aggregates)
        if not groupby or having or not set(groupby) <= set(kept.GROUP_COLUMNS):
            return None
        terms = [term.split() for term in (order or "").split(",") if term.strip()]
        if any(term[0] not in groupby for term in terms):
            return None  # an order by an aggregate would read crm_lead's columns
        select = [self._kanban_kept_aggregate(spec) for spec in aggregates]
        if None in select:
            return None
        query = self._kanban_kept_query(domain)
        if query is None:
            return None
        self.browse().check_access("read")
        if query.is_empty():
            return []
        query.limit, query.offset = limit, offset
        groupby_terms = {g: self._read_group_groupby(g, query) for g in groupby}
        query.groupby = SQL(", ").join(groupby_terms.values())
        query.having = SQL("SUM(%s) <> 0", SQL.identifier(self._table, "cnt"))
        query.order = self._read_group_orderby(order, groupby_terms, query)
        rows = self.env.execute_query(query.select(*groupby_terms.values(), *select))
        if not rows:
            return rows
        columns = iter(zip(*rows, strict=True))
        result = [
            self._read_group_postprocess_groupby(g, next(columns)) for g in groupby
        ]
        result += [
            self._read_group_postprocess_aggregate(spec, next(columns))
            for spec in aggregates
        ]
        return list(zip(*result, strict=True))

    @api.model
    def search_count(self, domain, limit=None):
        # A kanban column's card list counts its opportunities (up to 10,001).
        query = self._kanban_kept_query(domain)
        if query is None:
            return super().search_count(domain, limit=limit)
        if query.is_empty():
            return 0
        self.browse().check_access("read")
        [(count,)] = self.env.execute_query(
            query.select(self._kanban_kept_aggregate("__count"))
        )
        return min(count, limit) if limit else count
