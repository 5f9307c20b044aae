from collections import defaultdict
from datetime import timedelta

from psycopg2.errors import SerializationFailure

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, float_round

from .. import funnel_terms as terms
from ..jobs import run_batches
from .crm_grade_indicator import CUSTOMER_SOURCES
from .crm_grade_matrix import GRADES

SCORE_DIGITS = 2

# A change of one of these regrades the deal (the customer's history is
# followed by the daily regrade).
GRADE_INPUTS = {
    "expected_revenue",
    "partner_id",
    "competitor_ids",
    "team_id",
    "company_id",
    "type",
}

# How far back the customer's activity counts.
ACTIVITY_DAYS = 90

# Deals the daily regrade treats in one committed batch. A batch is never cut
# by the cron cycle's budget (jobs.py): 2,000 took 75 s on a server saturated
# by users in the load test at a million deals, 200 take a few seconds.
REGRADE_BATCH = 200


class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    grade = fields.Selection(
        GRADES,
        string="Opportunity Grade",
        readonly=True,
        copy=False,
        index="btree_not_null",
        # Not tracked: a regrade of many deals would log a message per deal.
        help="A to D by the analytic hierarchy process: the weighted score of "
        "the indicators, or a pre-assessment rule.",
    )
    grade_score = fields.Float(
        digits=(16, SCORE_DIGITS),
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Weighted score of the indicators, from 1 to 5.",
    )
    # Why the deal has its grade, stored as a code; the sentence is built in
    # the reader's language (a stored sentence stays in the grader's).
    grade_basis = fields.Selection(
        [
            ("invalid", "Not a valid opportunity"),
            ("rule", "Pre-assessed"),
            ("score", "Weighted score"),
        ],
        readonly=True,
        copy=False,
    )
    grade_reason = fields.Char(compute="_compute_grade_reason")
    grade_rule_id = fields.Many2one(
        "crm.grade.rule", string="Pre-assessed By", readonly=True, copy=False
    )
    grade_date = fields.Datetime(string="Graded On", readonly=True, copy=False)
    grade_score_ids = fields.One2many(
        "crm.lead.grade.score", "lead_id", string="Indicator Scores"
    )
    competitor_ids = fields.Many2many(
        "res.partner",
        "crm_lead_competitor_rel",
        "lead_id",
        "partner_id",
        string="Competitors",
        domain="[('sales_funnel_is_competitor', '=', True)]",
        help="The companies competing for this deal (the competition indicator).",
    )
    grade_neglected = fields.Boolean(
        string="Neglected",
        compute="_compute_grade_neglected",
        search="_search_grade_neglected",
        help="No activity planned, and none done for longer than its grade allows.",
    )

    @api.depends("grade_basis", "grade_rule_id.name")
    @api.depends_context("lang")
    def _compute_grade_reason(self):
        for lead in self:
            if lead.grade_basis == "invalid":
                lead.grade_reason = self.env._("Not a valid opportunity")
            elif lead.grade_basis == "rule":
                lead.grade_reason = self.env._(
                    "Pre-assessed: %(rule)s", rule=lead.grade_rule_id.name
                )
            elif lead.grade_basis == "score":
                lead.grade_reason = self.env._("Weighted score")
            else:
                lead.grade_reason = False

    # ------------------------------------------------------------------
    # Step of write and create: the grade follows its inputs
    # ------------------------------------------------------------------

    def _regrade_on_change(self, vals):
        """Regrade the deals whose grade inputs are in ``vals`` (nothing, and
        no query, otherwise: a stage change costs the grade nothing)."""
        if GRADE_INPUTS & vals.keys():
            self._grade()

    def _grade(self):
        """Grade the open opportunities of ``self`` in one batch: valid ones
        by a pre-assessment rule or by the weighted score of the indicators of
        their matrix, the others without a grade. Won and lost deals keep the
        grade they had. A constant number of queries for the whole batch."""
        leads = self.sudo().with_context(active_test=False, grading=True).exists()
        leads = leads.filtered(
            lambda lead: (
                lead.active and lead.type == "opportunity" and not lead.stage_id.is_won
            )
        )
        if not leads:
            return
        matrix_of = self.env["crm.grade.matrix"]._for_leads(leads)
        valid = self.browse()
        by_matrix = defaultdict(lambda: self.browse())
        for lead, matrix in matrix_of.items():
            by_matrix[matrix] |= lead
        for matrix, group in by_matrix.items():
            valid |= group.search([("id", "in", group.ids), *matrix._valid_domain()])
        valid = leads.browse(valid.ids)
        rules = self.env["crm.grade.rule"]._matches(valid)
        indicators = self.env["crm.grade.indicator"].browse(
            {i.id for m in by_matrix for i in m.indicator_ids}
        )
        values = valid._grade_values(set(indicators.mapped("source")))
        lines = self.env["crm.lead.grade.score"].sudo().with_context(grading=True)
        existing = {
            (line.lead_id.id, line.indicator_id.id): line
            for line in lines.search([("lead_id", "in", leads.ids)])
        }
        new_lines, obsolete = [], lines
        policies = self.env["crm.grade.policy"]._by_company_grade(leads.company_id)
        planned = []
        now = fields.Datetime.now()
        for lead in leads:
            matrix = matrix_of.get(lead)
            vals = {"grade_date": now}
            weights = (
                {w.indicator_id: w.weight for w in matrix.weight_ids}
                if (matrix and lead in valid)
                else {}
            )
            total = 0.0
            for indicator, weight in weights.items():
                line = existing.pop((lead.id, indicator.id), None)
                if indicator.source == "entered":
                    value = float((line and line.entered_score) or 3)
                else:
                    value = values[indicator.source].get(lead.id, 0.0)
                score = indicator._score_value(value)
                if (
                    indicator.source == "risk"
                    and lead.partner_id.commercial_partner_id.sales_funnel_credit_failed
                ):
                    score = 1
                total += score * weight
                line_vals = {
                    "value": value if indicator.source != "entered" else 0.0,
                    "score": score,
                    "weight": weight,
                    "contribution": score * weight,
                }
                if line:
                    changed = {k: v for k, v in line_vals.items() if line[k] != v}
                    if changed:
                        line.write(changed)
                else:
                    new_lines.append(
                        dict(line_vals, lead_id=lead.id, indicator_id=indicator.id)
                    )
            # Graded on the score as shown (two decimals): a shown 4.00 is
            # never a B under an A threshold of 4.0.
            total = float_round(total, precision_digits=SCORE_DIGITS)
            for (lead_id, _indicator_id), line in list(existing.items()):
                if lead_id == lead.id and (
                    not weights or line.indicator_id not in weights
                ):
                    if not line.entered_score:
                        obsolete |= line
                    existing.pop((lead_id, _indicator_id))
            rule = rules.get(lead)
            if not weights:
                vals.update(
                    grade=False,
                    grade_score=0.0,
                    grade_rule_id=False,
                    grade_basis="invalid" if matrix else False,
                )
            elif rule:
                vals.update(
                    grade=rule.grade,
                    grade_score=total,
                    grade_rule_id=rule.id,
                    grade_basis="rule",
                )
            else:
                vals.update(
                    grade=matrix._grade_of(total),
                    grade_score=total,
                    grade_rule_id=False,
                    grade_basis="score",
                )
            current = {
                "grade": lead.grade,
                "grade_score": lead.grade_score,
                "grade_rule_id": lead.grade_rule_id.id,
                "grade_basis": lead.grade_basis,
            }
            vals = {
                k: v
                for k, v in vals.items()
                if k == "grade_date"
                or (
                    round(v, 2) != round(current[k], 2)
                    if k == "grade_score"
                    else (v or False) != (current[k] or False)
                )
            }
            if "grade" in vals and vals["grade"]:
                policy = policies.get((lead.company_id.id, vals["grade"]))
                if policy and policy.activity_plan_id:
                    planned.append((lead, policy.activity_plan_id))
            lead.write(vals)
        obsolete.unlink()
        lines.create(new_lines)
        for lead, plan in planned:
            lead._apply_grade_plan(plan)

    def _apply_grade_plan(self, plan):
        """Plan the activities of the plan of the grade the deal reached."""
        self.ensure_one()
        for template in plan.template_ids:
            responsible = (
                template._determine_responsible(self.user_id, self)["responsible"]
                or self.user_id
                or self.env.user
            )
            self.activity_schedule(
                activity_type_id=template.activity_type_id.id,
                summary=template.summary,
                note=template.note,
                user_id=responsible.id,
                date_deadline=template._get_date_deadline(),
            )

    # ------------------------------------------------------------------
    # The data of the indicators: one query per indicator for the batch
    # ------------------------------------------------------------------

    def _grade_values(self, sources):
        """{source: {lead id: value}} of the data-based indicators."""
        values = {source: {} for source in sources}
        if not self:
            return values
        if "expected_revenue" in sources:
            values["expected_revenue"] = {
                lead.id: lead.expected_revenue for lead in self
            }
        if "competition" in sources:
            values["competition"] = {
                lead.id: float(len(lead.competitor_ids)) for lead in self
            }
        customer_sources = set(CUSTOMER_SOURCES) & sources
        if customer_sources:
            customer = {
                lead.id: lead.partner_id.commercial_partner_id.id for lead in self
            }
            partner_ids = tuple({p for p in customer.values() if p}) or (0,)
            for source in customer_sources:
                by_partner = getattr(self, f"_grade_{source}")(partner_ids)
                values[source] = {
                    lead_id: by_partner.get(partner_id, 0.0)
                    for lead_id, partner_id in customer.items()
                }
        return values

    def _grade_rows(self, query):
        self.env.flush_all()
        self.env.cr.execute(query)
        return {
            partner_id: float(value or 0.0)
            for partner_id, value in self.env.cr.fetchall()
        }

    def _grade_customer_value(self, partner_ids):
        """Past won business: won opportunities and orders without one."""
        return self._grade_rows(
            SQL(
                """
                SELECT partner_id, SUM(amount) FROM (
                    SELECT partner.commercial_partner_id AS partner_id,
                           lead.expected_revenue AS amount
                      FROM crm_lead lead
                      JOIN res_partner partner ON partner.id = lead.partner_id
                      JOIN crm_stage stage ON stage.id = lead.stage_id
                     WHERE %(won)s
                       AND partner.commercial_partner_id IN %(partners)s
                    UNION ALL
                    SELECT partner.commercial_partner_id, so.amount_untaxed
                      FROM sale_order so
                      JOIN res_partner partner ON partner.id = so.partner_id
                     WHERE so.state = 'sale' AND so.opportunity_id IS NULL
                       AND partner.commercial_partner_id IN %(partners)s
                ) won
                GROUP BY partner_id
                """,
                won=terms.won_opportunity("lead", "stage"),
                partners=partner_ids,
            )
        )

    def _grade_risk(self, partner_ids):
        """Overdue amount of the customer's posted invoices."""
        return self._grade_rows(
            SQL(
                """
                SELECT partner.commercial_partner_id, SUM(move.amount_residual_signed)
                  FROM account_move move
                  JOIN res_partner partner ON partner.id = move.partner_id
                 WHERE move.move_type = 'out_invoice'
                   AND move.state = 'posted'
                   AND move.payment_state IN ('not_paid', 'partial')
                   AND move.invoice_date_due < %(today)s
                   AND partner.commercial_partner_id IN %(partners)s
                 GROUP BY partner.commercial_partner_id
                """,
                today=fields.Date.context_today(self),
                partners=partner_ids,
            )
        )

    def _grade_activity(self, partner_ids):
        """Meetings, activities done (calls, …) on the customer's deals and
        interview reports of the last ninety days."""
        since = fields.Datetime.now() - timedelta(days=ACTIVITY_DAYS)
        return self._grade_rows(
            SQL(
                """
                SELECT partner_id, COUNT(*) FROM (
                    SELECT partner.commercial_partner_id AS partner_id
                      FROM calendar_event event
                      JOIN crm_lead lead ON lead.id = event.opportunity_id
                      JOIN res_partner partner ON partner.id = lead.partner_id
                     WHERE event.active AND event.start >= %(since)s
                       AND event.start <= %(now)s
                       AND partner.commercial_partner_id IN %(partners)s
                    UNION ALL
                    SELECT partner.commercial_partner_id
                      FROM mail_message message
                      JOIN crm_lead lead ON message.model = 'crm.lead'
                                        AND lead.id = message.res_id
                      JOIN res_partner partner ON partner.id = lead.partner_id
                     WHERE message.mail_activity_type_id IS NOT NULL
                       AND message.date >= %(since)s
                       AND partner.commercial_partner_id IN %(partners)s
                    UNION ALL
                    SELECT partner.commercial_partner_id
                      FROM crm_lead_interview interview
                      JOIN res_partner partner ON partner.id = interview.partner_id
                     WHERE interview.date >= %(since)s::date
                       AND partner.commercial_partner_id IN %(partners)s
                ) done
                GROUP BY partner_id
                """,
                since=since,
                now=fields.Datetime.now(),
                partners=partner_ids,
            )
        )

    @api.model
    def _regrade_later_or_now(self, domain):
        """Regrade the open opportunities of ``domain`` (a change of the
        matrix or of the rules): at once up to a batch, else marked for the
        regrade job, which is triggered to run now."""
        domain = expression.AND(
            [terms.FUNNEL_OPPORTUNITY_DOMAIN, [("stage_id.is_won", "=", False)], domain]
        )
        Lead = self.sudo()
        leads = Lead.search(domain, limit=REGRADE_BATCH + 1)
        if len(leads) <= REGRADE_BATCH:
            leads._grade()
            return
        query = Lead._search(domain)
        self.flush_model(["grade_date"])
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET grade_date = NULL WHERE id IN %s",
                query.subselect(),
            )
        )
        self.invalidate_model(["grade_date"])
        self.env.ref("sales_funnel.ir_cron_regrade_opportunities").sudo()._trigger()

    @api.model
    def _cron_regrade_opportunities(self):
        """Regrade the open opportunities not graded today (the customer's
        history moves without the deal changing), a batch at a time: the
        scheduler commits each batch and calls again while some remain."""
        domain = expression.AND(
            [
                terms.FUNNEL_OPPORTUNITY_DOMAIN,
                [("stage_id.is_won", "=", False)],
                [
                    "|",
                    ("grade_date", "=", False),
                    ("grade_date", "<", fields.Datetime.now() - timedelta(hours=20)),
                ],
            ]
        )
        remaining = []

        def step():
            leads = self._lock_for_regrade(domain)
            leads._grade()
            remaining.append(self.sudo().search_count(domain))
            return len(leads), remaining[-1]

        # Within the cron cycle's budget shared by the addon's jobs (jobs.py).
        run_batches(self.env, step)
        return remaining[-1] if remaining else 0

    def _lock_for_regrade(self, domain):
        """The next batch to regrade, locked first: a deal a salesperson is
        saving right now is skipped (the next batch or run takes it), and one
        saved while the batch runs waits for it, instead of either transaction
        failing on a concurrent update. Empty when a deal of the batch changed
        since this transaction began: the scheduler calls again afresh."""
        query = self.sudo()._search(domain, limit=REGRADE_BATCH, order="id")
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL("%s FOR NO KEY UPDATE OF crm_lead SKIP LOCKED", query.select()),
                    log_exceptions=False,
                )
                ids = [row[0] for row in self.env.cr.fetchall()]
        except SerializationFailure:
            return self.browse()
        return self.sudo().browse(ids)

    # ------------------------------------------------------------------
    # Resources by grade: neglected deals
    # ------------------------------------------------------------------

    def _neglected_query(self, domain=()):
        query = self._search(
            expression.AND([terms.FUNNEL_OPPORTUNITY_DOMAIN, list(domain)])
        )
        lead = query.table
        self.env["crm.lead"].flush_model(["grade", "company_id", "create_date"])
        self.env["crm.grade.policy"].flush_model()
        self.env["mail.activity"].flush_model(["res_model", "res_id"])
        query.add_where(
            SQL(
                """
                EXISTS (
                    SELECT 1 FROM crm_grade_policy policy
                     WHERE policy.company_id = %(company)s
                       AND policy.grade = %(grade)s
                       AND policy.max_days_without_activity > 0
                       AND COALESCE(
                             (SELECT MAX(message.date) FROM mail_message message
                               WHERE message.model = 'crm.lead'
                                 AND message.res_id = %(id)s
                                 AND message.mail_activity_type_id IS NOT NULL),
                             %(created)s)
                           < %(now)s - make_interval(
                                 days => policy.max_days_without_activity))
                AND NOT EXISTS (
                    SELECT 1 FROM mail_activity activity
                     WHERE activity.res_model = 'crm.lead'
                       AND activity.res_id = %(id)s AND activity.active)
                """,
                company=SQL.identifier(lead, "company_id"),
                grade=SQL.identifier(lead, "grade"),
                id=SQL.identifier(lead, "id"),
                created=SQL.identifier(lead, "create_date"),
                now=fields.Datetime.now(),
            )
        )
        return query

    def _neglected_lead_ids(self, lead_ids=None):
        domain = [] if lead_ids is None else [("id", "in", list(lead_ids))]
        query = self.sudo()._neglected_query(domain)
        return {row[0] for row in self.env.execute_query(query.select())}

    @api.depends("grade", "activity_ids")
    def _compute_grade_neglected(self):
        neglected = self._neglected_lead_ids(self.ids) if self.ids else set()
        for lead in self:
            lead.grade_neglected = lead.id in neglected

    def _search_grade_neglected(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on “Neglected”."))
        positive = (operator == "=") == value
        return [
            ("id", "in" if positive else "not in", list(self._neglected_lead_ids()))
        ]
