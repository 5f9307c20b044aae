"""The vocabulary of the funnel figures: each term is defined here, once.

Every screen that shows a funnel figure builds it from these definitions: the
Funnel Forecast (``crm.funnel.summary``) and its PostgreSQL triggers, the
Weighted Forecast Analysis (``crm.funnel.forecast.report``), the pipeline as of
a date, the funnel dashboard, Funnel Health, the system forecast of forecast
submissions and the forecast snapshots, the stuck list.

- **Funnel opportunity**: an active opportunity (leads are not in the funnel;
  lost opportunities are archived).
- **Open opportunity**: a funnel opportunity whose stage is not a won stage.
  **Won opportunity**: a funnel opportunity in a won stage.
- **Weighted amount**: amount × the stage's win rate ÷ 100.
- **Closing (committed) stage**: the last stage before Won of the pipeline the
  opportunity runs through, i.e. the last non-won stage (by sequence, then id)
  among the stages of its sales team and the stages without a team. The
  committed amount is the open amount in that stage.
- **Period date of a deal**: the expected closing date while it is open; once
  won, the closing date (else, for a deal created won, the day it entered the
  won stage), read in a time zone.
- **Periods of the dashboard**: this month, next month, this quarter, next
  quarter, this year (their bounds and labels).
- **Target of a slice for a period**: ``crm.sales.target._target_amounts``
  (it reads targets with the user's access rights, so it is a model method).
- **Opportunities needed** (worked back from the target): ``opportunities_needed``
  below; its observed rates are read by ``crm.sales.target._opportunities_needed``.

Why a module of functions rather than a model: the trigger functions of the
Funnel Forecast are built when the module is imported, without an environment,
and the fragments compose into any query (a report's ``_select``, a trigger
body, an ad-hoc aggregate). One definition that nobody overrides per database
is the point: figures of two screens cannot drift apart.

The SQL builders take the aliases of the tables in the query they go in.
"""

import math
from typing import NamedTuple

from dateutil.relativedelta import relativedelta

from odoo.tools import SQL, LazyTranslate, date_utils

_lt = LazyTranslate(__name__)


def _column(alias, name):
    return SQL.identifier(alias, name)


# ---------------------------------------------------------------------------
# Open, won: which opportunities count
# ---------------------------------------------------------------------------


def funnel_opportunity(lead="lead"):
    """SQL: the row of ``lead`` is a funnel opportunity (active, not a lead)."""
    return SQL(
        "(%s AND %s = 'opportunity')", _column(lead, "active"), _column(lead, "type")
    )


def won_stage(stage="stage"):
    """SQL: the stage ``stage`` is a won stage (NULL counts as not won)."""
    return SQL("(%s IS TRUE)", _column(stage, "is_won"))


def open_opportunity(lead="lead", stage="stage"):
    """SQL: an open opportunity; ``stage`` is the lead's stage, joined."""
    return SQL("(%s AND NOT %s)", funnel_opportunity(lead), won_stage(stage))


def won_opportunity(lead="lead", stage="stage"):
    """SQL: a won opportunity; ``stage`` is the lead's stage, joined."""
    return SQL("(%s AND %s)", funnel_opportunity(lead), won_stage(stage))


# The same terms as ORM domains of crm.lead.
FUNNEL_OPPORTUNITY_DOMAIN = [("active", "=", True), ("type", "=", "opportunity")]
OPEN_OPPORTUNITY_DOMAIN = [*FUNNEL_OPPORTUNITY_DOMAIN, ("stage_id.is_won", "=", False)]
# The stages of the funnel (what the dashboard and Funnel Health list), of crm.stage.
FUNNEL_STAGE_DOMAIN = [("is_won", "=", False)]


# ---------------------------------------------------------------------------
# Weighted amount
# ---------------------------------------------------------------------------


def weighted_amount(amount, win_rate=None):
    """SQL: ``amount`` × win rate ÷ 100; the win rate defaults to the column
    ``stage.win_rate``. Both are SQL expressions."""
    if win_rate is None:
        win_rate = _column("stage", "win_rate")
    return SQL("(%s * %s / 100.0)", amount, win_rate)


def weighted_value(amount, win_rate):
    """The weighted amount in Python (the same rule as ``weighted_amount``)."""
    return amount * win_rate / 100.0


# ---------------------------------------------------------------------------
# Closing (committed) stage
# ---------------------------------------------------------------------------


def closing_stages():
    """SQL relation (team_key, stage_id): the closing stage of each sales team's
    pipeline; ``team_key`` is the team's id, 0 for opportunities without a team.
    A pipeline without a non-won stage has no row."""
    return SQL(
        """
        SELECT COALESCE(team.id, 0) AS team_key, last_stage.id AS stage_id
          FROM (SELECT id FROM crm_team UNION ALL SELECT NULL) team
         CROSS JOIN LATERAL (
               SELECT stage.id
                 FROM crm_stage stage
                WHERE stage.is_won IS NOT TRUE
                  AND (stage.team_id IS NULL OR stage.team_id = team.id)
                ORDER BY stage.sequence DESC, stage.id DESC
                LIMIT 1) last_stage
        """
    )


def closing_stage(stage_id, team_id):
    """SQL boolean: the stage ``stage_id`` is the closing stage of the pipeline of
    the team ``team_id`` (SQL expressions; the team may be NULL). PostgreSQL
    reads the few closing stages once and looks each row up in a hash."""
    return SQL(
        "((COALESCE(%s, 0), %s) IN (SELECT team_key, stage_id FROM (%s) closing))",
        team_id,
        stage_id,
        closing_stages(),
    )


def committed_amount(amount, stage_id, team_id):
    """SQL: ``amount`` where the stage is its team's closing stage, else 0."""
    return SQL(
        "(CASE WHEN %s THEN %s ELSE 0.0 END)", closing_stage(stage_id, team_id), amount
    )


def closing_stage_of(env, team):
    """The closing stage (crm.stage) of ``team``'s pipeline (no team: the
    pipeline of the stages without a team)."""
    env["crm.stage"].flush_model(["is_won", "team_id", "sequence"])
    rows = env.execute_query(
        SQL(
            "SELECT stage_id FROM (%s) closing WHERE team_key = %s",
            closing_stages(),
            team.id or 0,
        )
    )
    return env["crm.stage"].browse([row[0] for row in rows])


# ---------------------------------------------------------------------------
# Period date of a deal
# ---------------------------------------------------------------------------


def open_deal_date(lead="lead"):
    """SQL date: the period date of an open deal, its expected closing."""
    return _column(lead, "date_deadline")


def won_deal_date(lead="lead", tz=None):
    """SQL date: the period date of a won deal, its closing date (a deal created
    won has none: the day it entered the stage), as a date in ``tz`` (None:
    UTC, for sums kept by the database)."""
    moment = SQL(
        "COALESCE(%s, %s)",
        _column(lead, "date_closed"),
        _column(lead, "date_last_stage_update"),
    )
    if tz:
        moment = SQL("(%s AT TIME ZONE 'UTC' AT TIME ZONE %s)", moment, tz)
    return SQL("(%s)::date", moment)


def deal_date(lead="lead", stage="stage", tz=None):
    """SQL date: the period date of a funnel opportunity, open or won."""
    return SQL(
        "(CASE WHEN %s THEN %s ELSE %s END)",
        won_stage(stage),
        won_deal_date(lead, tz),
        open_deal_date(lead),
    )


# Columns of crm.lead and crm.stage the terms read (for flushes and _depends).
LEAD_COLUMNS = [
    "active",
    "type",
    "stage_id",
    "team_id",
    "expected_revenue",
    "date_deadline",
    "date_closed",
    "date_last_stage_update",
]
STAGE_COLUMNS = ["is_won", "win_rate", "team_id", "sequence"]


# ---------------------------------------------------------------------------
# Periods of the dashboard
# ---------------------------------------------------------------------------

# key: (period type, offset from the current one, label)
PERIODS = {
    "this_month": ("month", 0, _lt("This month")),
    "next_month": ("month", 1, _lt("Next month")),
    "this_quarter": ("quarter", 0, _lt("This quarter")),
    "next_quarter": ("quarter", 1, _lt("Next quarter")),
    "this_year": ("year", 0, _lt("This year")),
}
DEFAULT_PERIOD = "next_quarter"
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def period_bounds(today, period):
    """(period type, first day, last day) of ``period`` (a key of PERIODS)."""
    kind, offset, _label = PERIODS[period]
    start = date_utils.start_of(today, kind) + relativedelta(
        months=_MONTHS[kind] * offset
    )
    return kind, start, date_utils.end_of(start, kind)


def period_name(kind, start):
    """How a period reads: 2031-04, 2031 Q2, 2031."""
    if kind == "month":
        return start.strftime("%Y-%m")
    if kind == "quarter":
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def period_choices(env):
    """[(key, label)] of the dashboard's periods, in the user's language."""
    return [(key, env._(label)) for key, (_kind, _offset, label) in PERIODS.items()]


# ---------------------------------------------------------------------------
# Opportunities needed, worked back from the target
# (能计算出来要完成任务需要多少潜在客户、意向客户)
# ---------------------------------------------------------------------------

# The observed rates are those of the last twelve months (this month included).
NEED_HISTORY_MONTHS = 12

NEED_NO_TARGET = "no_target"  # no target for the period: nothing to work back from
NEED_REACHED = "reached"  # won + weighted cover the target: nothing needed
NEED_NO_HISTORY = "no_history"  # no won deal, or a stage with no observed outcome
NEED_NEEDED = "needed"


class StageNeed(NamedTuple):
    stage_id: int
    # Share of the opportunities leaving the stage that went on (0-1).
    conversion: float
    # Share of the opportunities entering the stage that end won (0-1).
    win_rate: float
    needed: int


class FunnelNeed(NamedTuple):
    state: str
    gap: float
    average_deal: float
    # The stages on the way to Won, the top of the funnel first.
    stages: tuple
    lead_conversion: float | None
    leads: int | None


def need_history_start(today):
    """First day of the twelve months whose history gives the rates."""
    return date_utils.start_of(today, "month") - relativedelta(
        months=NEED_HISTORY_MONTHS - 1
    )


def stage_conversion(moved_on, lost):
    """Conversion of a stage: of the opportunities that left it in the last
    twelve months, the share that went on to a later stage or Won; a step back
    is no outcome (the opportunity is still in the funnel). None without any
    outcome."""
    decided = (moved_on or 0) + (lost or 0)
    return (moved_on or 0) / decided if decided else None


def lead_conversion(converted, lost):
    """Lead → opportunity: of the leads created in the last twelve months and
    decided since, the share converted into opportunities. None without any."""
    decided = (converted or 0) + (lost or 0)
    return (converted or 0) / decided if decided else None


def _ceil(value):
    # 12.000000001 (floating point) is 12 opportunities, not 13.
    return math.ceil(round(value, 6))


def opportunities_needed(gap, average_deal, conversions, leads_rate=None):
    """How many new opportunities each stage needs to close ``gap``.

    - ``gap``: target − won − weighted open of the period (None: no target);
    - ``average_deal``: the average amount of the deals won in the last twelve
      months;
    - ``conversions``: [(stage id, conversion)] of the stages on the way to Won,
      the top of the funnel first (``stage_conversion``; None: no outcome);
    - ``leads_rate``: the lead conversion (``lead_conversion``), or None.

    A new opportunity entering stage S ends won with the product of the
    conversions of S and of every later stage (win rate from S); it brings in
    average deal × that win rate on average, so S needs

        needed(S) = ⌈ gap ÷ (average deal × win rate from S) ⌉

    new opportunities, and the top of the funnel ⌈ needed(top) ÷ lead
    conversion ⌉ new leads. Each figure is rounded up on its own.
    """
    if gap is None:
        return FunnelNeed(NEED_NO_TARGET, 0.0, average_deal or 0.0, (), None, None)
    rates = [rate for _stage_id, rate in conversions]
    if gap <= 0:
        return FunnelNeed(
            NEED_REACHED,
            gap,
            average_deal or 0.0,
            tuple(StageNeed(stage_id, rate, 0.0, 0) for stage_id, rate in conversions),
            leads_rate,
            0,
        )
    if not average_deal or not rates or any(not rate for rate in rates):
        return FunnelNeed(NEED_NO_HISTORY, gap, average_deal or 0.0, (), None, None)
    stages = []
    win_rate = 1.0
    for stage_id, rate in reversed(conversions):
        win_rate *= rate
        stages.append(
            StageNeed(stage_id, rate, win_rate, _ceil(gap / (average_deal * win_rate)))
        )
    stages.reverse()
    leads = _ceil(stages[0].needed / leads_rate) if leads_rate else None
    return FunnelNeed(
        NEED_NEEDED, gap, average_deal, tuple(stages), leads_rate or None, leads
    )


def funnel_not_full(need, open_leads=0):
    """Funnel not full (漏斗不满): the top of the funnel is short of the need.

    The new opportunities the top stage needs come from the open leads, each
    converting at the observed lead conversion: the funnel is not full when
    they are not expected to supply them (without lead history, open leads
    supply nothing). Without history to say how many are needed, a gap left
    by won + weighted is enough to say the funnel is not full.
    """
    if need.state == NEED_NO_HISTORY:
        return need.gap > 0
    if need.state != NEED_NEEDED:
        return False
    supply = (
        math.floor(open_leads * need.lead_conversion) if need.lead_conversion else 0
    )
    return need.stages[0].needed > supply
