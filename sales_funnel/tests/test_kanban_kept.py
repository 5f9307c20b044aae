from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from ..models.crm_lead_kanban import STOCK_READ
from .common import FunnelCase

# What the pipeline kanban asks (web_read_group's aggregates of the arch).
AGGREGATES = [
    "probability:avg",
    "recurring_revenue_monthly:sum",
    "color:sum",
    "expected_revenue:sum",
    "prorated_revenue:sum",
    "grade_score:avg",
    "recurring_revenue:sum",
]
PIPELINE = [("type", "=", "opportunity")]
PROGRESS = {
    "field": "activity_state",
    "colors": {"planned": "success", "today": "warning", "overdue": "danger"},
    "sum_field": "prorated_revenue",
}


def _rounded(value):
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_rounded(item) for item in value)
    return value


@tagged("post_install", "-at_install")
class TestKanbanKeptSums(FunnelCase):
    """The kanban's columns (counts, sums, averages) and its card lists'
    counts come from the kept deltas: equal to the stock answer read from the
    rows, for every user, company and write path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company2 = cls.env["res.company"].create({"name": "SF Kanban Company"})
        cls.salesman_c2 = new_test_user(
            cls.env,
            "sf_kanban_c2",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company2.id,
            company_ids=[Command.set(cls.company2.ids)],
        )
        cls.manager_both = new_test_user(
            cls.env,
            "sf_kanban_both",
            groups="sales_team.group_sale_manager",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.company2).ids)],
        )
        lead = cls._new_lead
        cls.b = lead("B", cls.salesman, cls.development, 40000.0)
        cls.c = lead("C", cls.salesman2, cls.proposal, 25000.0)
        cls.d = lead("D", cls.salesman, cls.closing, 12345.67)
        cls.unassigned = lead("Nobody's", cls.salesman, cls.verification, 777.0)
        cls.unassigned.user_id = False
        cls.plain_lead = cls.env["crm.lead"].create(
            {"name": "A lead", "type": "lead", "expected_revenue": 5.0}
        )
        cls.c2_deal = (
            cls.env["crm.lead"]
            .with_company(cls.company2)
            .create(
                {
                    "name": "Other company",
                    "type": "opportunity",
                    "user_id": cls.salesman_c2.id,
                    "company_id": cls.company2.id,
                    "stage_id": cls.proposal.id,
                    "expected_revenue": 9000.0,
                    "recurring_revenue": 100.0,
                    "color": 3,
                }
            )
        )
        cls.d.color = 2
        cls.b.recurring_revenue = 300.0

    # ------------------------------------------------------------------

    def _envs(self):
        both = self.env(
            user=self.manager_both,
            context={"allowed_company_ids": (self.company | self.company2).ids},
        )
        return {
            "admin": self.env,
            "manager": self.env(user=self.manager),
            "salesman": self.env(user=self.salesman),
            "salesman of company 2": self.env(user=self.salesman_c2),
            "manager of both companies": both,
        }

    def _assert_columns_equal(self, env, domain, groupby="stage_id", kept=True):
        Lead = env["crm.lead"]
        self.assertEqual(Lead._kanban_kept_query(domain) is not None, kept, domain)
        fast = Lead.web_read_group(domain, AGGREGATES, [groupby])
        stock = Lead.with_context(**{STOCK_READ: True}).web_read_group(
            domain, AGGREGATES, [groupby]
        )
        self.assertEqual(_rounded(fast), _rounded(stock), domain)
        for group in fast["groups"]:
            for limit in (None, 1):
                self.assertEqual(
                    Lead.search_count(group["__domain"], limit=limit),
                    Lead.with_context(**{STOCK_READ: True}).search_count(
                        group["__domain"], limit=limit
                    ),
                    group["__domain"],
                )
        return fast

    def _assert_all_equal(self):
        for name, env in self._envs().items():
            with self.subTest(user=name):
                for domain in (
                    PIPELINE,
                    PIPELINE + [("user_id", "=", env.uid)],
                    [],
                    PIPELINE + [("stage_id", "in", self.stages.ids)],
                    PIPELINE + [("user_id", "!=", False)],
                    ["|", ("company_id", "=", False), ("team_id", "not in", [1])],
                ):
                    self._assert_columns_equal(env, domain)
                self._assert_columns_equal(env, PIPELINE, groupby="user_id")
                archived = env(context=dict(env.context, active_test=False))
                self._assert_columns_equal(archived, PIPELINE)

    # ------------------------------------------------------------------

    def test_columns_equal_the_rows_for_every_user_and_company(self):
        self._assert_all_equal()
        # The figures themselves, not only their agreement: the salesman sees
        # his own two deals and the unassigned one, not the others.
        groups = self.env(user=self.salesman)["crm.lead"].web_read_group(
            PIPELINE, ["expected_revenue:sum"], ["stage_id"]
        )["groups"]
        figures = {
            g["stage_id"][0]: (g["stage_id_count"], g["expected_revenue"])
            for g in groups
            if g["stage_id_count"]
        }
        self.assertEqual(figures[self.development.id], (1, 40000.0))
        self.assertEqual(figures[self.closing.id], (1, 12345.67))
        self.assertNotIn(self.proposal.id, figures)
        self.assertEqual(figures[self.verification.id][0], 2)  # own + unassigned

    def test_every_write_path_counts_at_once(self):
        Lead = self.env["crm.lead"]
        # create, write of amounts and of the salesperson, a stage move
        new = self._new_lead("New", self.salesman2, self.verification, 1000.0)
        self._assert_all_equal()
        new.write({"expected_revenue": 2500.0, "color": 7, "user_id": self.salesman.id})
        self.b.recurring_revenue = 0.0
        self._tick_all(self.b)
        self.b.with_user(self.salesman).write({"stage_id": self.proposal.id})
        self._assert_all_equal()
        # copy, import, a lost deal (archived), a restored one
        self.d.copy({"name": "D copy"})
        Lead.load(
            ["name", "type", "expected_revenue", "stage_id/id"],
            [["Imported", "opportunity", "4321", "sales_funnel.crm_stage_proposal"]],
        )
        self._lose(self.c)
        self._assert_all_equal()
        self.c.with_user(self.manager).action_unarchive()
        # a win rate changed in the stage: every probability moves in SQL
        self.development.win_rate = 35
        # SQL written straight to the table, outside the ORM
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET expected_revenue = expected_revenue + 1,"
            " grade_score = 3.5 WHERE id = %s",
            [self.d.id],
        )
        self.env.invalidate_all()
        self._assert_all_equal()
        # unlink, and a change of company
        (new | self.unassigned).unlink()
        self.b.write(
            {"company_id": self.company2.id, "user_id": False, "team_id": False}
        )
        self._assert_all_equal()

    def test_compaction_keeps_the_answer(self):
        self.b.expected_revenue = 41000.0
        self.b.expected_revenue = 42000.0
        before = self._assert_columns_equal(self.env, PIPELINE)
        self.env["crm.lead"]._cron_compact_kanban_sums()
        self.env.cr.execute(
            "SELECT count(*) FROM crm_lead_kanban_delta GROUP BY company_id,"
            " team_id, user_id, stage_id, active, type HAVING count(*) > 1"
        )
        self.assertFalse(self.env.cr.fetchall(), "one row a group after compaction")
        self.assertEqual(self._assert_columns_equal(self.env, PIPELINE), before)

    def test_other_questions_read_the_rows(self):
        Lead = self.env["crm.lead"]
        for domain in (
            PIPELINE + [("name", "ilike", "B")],
            PIPELINE + [("stage_id.is_won", "=", False)],
            PIPELINE + [("id", "in", self.b.ids)],
        ):
            self._assert_columns_equal(self.env, domain, kept=False)
        # An aggregate that is not kept, a grouping by month: the rows.
        for aggregates, groupby in (
            (["expected_revenue:max"], ["stage_id"]),
            (["expected_revenue:sum"], ["date_deadline:month"]),
        ):
            self.assertEqual(
                Lead.read_group(PIPELINE, aggregates, groupby),
                Lead.with_context(**{STOCK_READ: True}).read_group(
                    PIPELINE, aggregates, groupby
                ),
            )
        # A record rule on another column: the rows for that user.
        self.env["ir.rule"].create(
            {
                "name": "Deals above 10,000 only",
                "model_id": self.env.ref("crm.model_crm_lead").id,
                "domain_force": "[('expected_revenue', '>', 10000)]",
                "groups": [Command.link(self.env.ref("base.group_user").id)],
            }
        )
        salesman = self.env(user=self.salesman)
        self._assert_columns_equal(salesman, PIPELINE, kept=False)

    def test_columns_read_the_sums_not_the_opportunities(self):
        Lead = self.env["crm.lead"]
        Lead.web_read_group(PIPELINE, AGGREGATES, ["stage_id"])  # caches warm
        self.env.invalidate_all()
        queries = []
        execute = type(self.env.cr).execute

        def spy(cr, query, *args, **kwargs):
            queries.append(getattr(query, "code", query))
            return execute(cr, query, *args, **kwargs)

        # the sums by stage, the stages of the pipeline (group_expand), their
        # names and folds
        with self.assertQueryCount(3), patch.object(type(self.env.cr), "execute", spy):
            Lead.web_read_group(PIPELINE, AGGREGATES, ["stage_id"])
        self.assertIn('FROM "crm_lead_kanban_delta" AS "crm_lead"', queries[0])
        self.assertFalse([q for q in queries if 'FROM "crm_lead"' in q])

    def test_card_count_is_one_query(self):
        Lead = self.env["crm.lead"]
        domain = PIPELINE + [("stage_id", "=", self.verification.id)]
        Lead.search_count(domain, limit=10001)  # rules and stages cached
        with self.assertQueryCount(1):
            # Substation retrofit and the unassigned deal
            self.assertEqual(Lead.search_count(domain, limit=10001), 2)


@tagged("post_install", "-at_install")
class TestKanbanProgressBar(FunnelCase):
    """The activity colours of the columns: one pass over the activities,
    equal to the stock count (whose extra all-zero columns, the stages without
    any activity, the web client shows grey as well)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.today()
        lead = cls._new_lead
        cls.b = lead("B", cls.salesman, cls.development, 40000.0)
        cls.c = lead("C", cls.salesman2, cls.proposal, 25000.0)
        lead("D", cls.salesman, cls.closing, 1.0)
        cls.lead.activity_schedule(
            "mail.mail_activity_data_todo", today + timedelta(days=3)
        )
        cls.lead.activity_schedule(
            "mail.mail_activity_data_todo", today - timedelta(days=2)
        )
        cls.b.activity_schedule("mail.mail_activity_data_todo", today)
        cls.c.activity_schedule(
            "mail.mail_activity_data_todo", today + timedelta(days=1)
        )
        cls.salesman2.tz = "Pacific/Kiritimati"  # UTC+14: its today differs

    def _assert_same(self, env, domain, group_by="stage_id"):
        Lead = env["crm.lead"]
        fast = Lead.read_progress_bar(domain, group_by, PROGRESS)
        stock = Lead.with_context(**{STOCK_READ: True}).read_progress_bar(
            domain, group_by, PROGRESS
        )
        self.assertEqual(
            fast, {key: counts for key, counts in stock.items() if any(counts.values())}
        )
        return fast

    def test_colours_equal_the_stock_count(self):
        for tz in ("UTC", "Asia/Shanghai", "America/Los_Angeles"):
            for user in (self.env.user, self.salesman, self.salesman2):
                env = self.env(user=user, context={"tz": tz})
                for domain in (PIPELINE, PIPELINE + [("user_id", "=", user.id)]):
                    with self.subTest(tz=tz, user=user.login, domain=domain):
                        self._assert_same(env, domain)
                        self._assert_same(env, domain, "user_id")
        fast = self._assert_same(self.env(context={"tz": "UTC"}), PIPELINE)
        # The earliest activity gives the colour: overdue, not planned.
        self.assertEqual(fast[str(self.verification.id)]["overdue"], 1)
        self.assertEqual(fast[str(self.development.id)]["today"], 1)

    def test_done_activity_leaves_the_colours(self):
        self.b.activity_ids.action_feedback("done")
        fast = self._assert_same(self.env, PIPELINE)
        self.assertNotIn(str(self.development.id), fast)
