"""The dashboard's grade panel and the lead conversion of the need, read from
sums kept by PostgreSQL: after every way a deal or a lead changes, the kept
answer is the one counted from the opportunities and leads themselves."""

from datetime import date

from odoo import Command
from odoo.tests import new_test_user, tagged

from ..models.crm_funnel_dashboard import GRADES_PER_ROW
from ..models.crm_sales_target_need import LEADS_PER_ROW
from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestDashboardGradeSums(FunnelCase):
    """Open pipeline per grade: kept sums = the opportunities' read_group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Lead = cls.env["crm.lead"].with_context(active_test=False)
        Lead.search([("id", "!=", cls.lead.id)]).unlink()
        cls.east = cls.env["crm.team"].create(
            {"name": "East", "member_ids": [Command.set(cls.salesman.ids)]}
        )
        cls.west = cls.env["crm.team"].create(
            {"name": "West", "member_ids": [Command.set(cls.salesman2.ids)]}
        )
        cls.branch = cls.env["res.company"].create({"name": "Beijing branch"})
        (cls.salesman | cls.salesman2 | cls.manager).company_ids |= cls.branch
        new = cls._new_lead
        cls.a1 = new("A1", cls.salesman, cls.verification, 10000.0)
        cls.a2 = new("A2", cls.salesman, cls.proposal, 20000.0)
        cls.b1 = new("B1", cls.salesman2, cls.development, 30000.0)
        cls.c1 = new("C1", cls.salesman2, cls.closing, 40000.0)
        cls.free = new("Nobody's", cls.salesman, cls.proposal, 5000.0)
        cls.free.user_id = False
        (cls.lead | cls.a1 | cls.a2).team_id = cls.east
        (cls.b1 | cls.c1).team_id = cls.west
        cls.c1.company_id = cls.branch
        cls.pool = Lead.create(
            {
                "name": "Pool lead",
                "type": "lead",
                "user_id": cls.salesman.id,
                "funnel_source": "prospecting",
            }
        )
        cls._grade_by_sql(
            {
                cls.a1: "a",
                cls.a2: "a",
                cls.b1: "b",
                cls.c1: "c",
                cls.pool: "d",
                cls.lead: False,
                cls.free: False,
            }
        )

    @classmethod
    def _grade_by_sql(cls, grades):
        """Grades written in SQL, as a batch job may (the ORM's cache follows)."""
        cls.env.flush_all()
        for lead, grade in grades.items():
            cls.env.cr.execute(
                "UPDATE crm_lead SET grade = %s WHERE id = %s",
                [grade or None, lead.id],
            )
        cls.env["crm.lead"].invalidate_model(["grade"])

    def _grades(self, user=None, per_row=False, **slice_):
        Dashboard = self.env["crm.funnel.dashboard"]
        if user:
            Dashboard = Dashboard.with_user(user)
        if per_row:
            Dashboard = Dashboard.with_context(**{GRADES_PER_ROW: True})
        domain = [(name, "=", value) for name, value in slice_.items()]
        return Dashboard._grades(domain)

    def assertKeptAgrees(self, kept=True):
        """For each reader and slice, the kept answer is the per-row one; the
        kept sums do answer (no fallback, unless ``kept`` is False) and the
        company view is not empty."""
        slices = [
            {},
            {"team_id": self.east.id},
            {"team_id": self.west.id},
            {"user_id": self.salesman.id},
            {"user_id": self.salesman2.id, "team_id": self.west.id},
        ]
        for user in (None, self.manager, self.salesman, self.salesman2):
            for slice_ in slices:
                with self.subTest(user=user and user.login, **slice_):
                    self.assertEqual(
                        self._grades(user, **slice_),
                        self._grades(user, per_row=True, **slice_),
                    )
        if kept:
            Lead = self.env["crm.lead"].with_user(self.manager)
            sums = self.env["crm.funnel.grade.sums"]._by_grade([], Lead)
            self.assertIsNotNone(sums)
        self.assertTrue(self._grades())

    def _row(self, grade, user=None):
        return next((row for row in self._grades(user) if row["grade"] == grade), None)

    def test_hand_computed_figures(self):
        # A: A1 10,000 + A2 20,000; the default company and the branch both
        # count for a manager of both.
        self.assertEqual(
            [(row["grade"], row["count"], row["amount"]) for row in self._grades()],
            [
                ("a", 2, 30000.0),
                ("b", 1, 30000.0),
                ("c", 1, 40000.0),
                ("", 2, 105000.0),
            ],
        )
        self.assertEqual(self._row("", self.salesman)["count"], 2)  # own + nobody's
        self.assertIsNone(self._row("b", self.salesman))
        self.assertKeptAgrees()

    def test_create_copy_import_unlink(self):
        lead = self._new_lead("New", self.salesman2, self.development, 7000.0)
        lead.team_id = self.west
        self.assertKeptAgrees()
        self.a1.copy()
        self.assertKeptAgrees()
        result = self.env["crm.lead"].load(
            [
                "name",
                "type",
                "funnel_source",
                "user_id",
                "stage_id/id",
                "expected_revenue",
            ],
            [
                [
                    "Imported",
                    "opportunity",
                    "prospecting",
                    self.salesman.name,
                    "sales_funnel.crm_stage_proposal",
                    "1234.5",
                ]
            ],
        )
        self.assertFalse(result["messages"], result)
        self.assertKeptAgrees()
        count = sum(row["count"] for row in self._grades())
        (self.a2 | lead).unlink()
        self.assertEqual(sum(row["count"] for row in self._grades()), count - 2)
        self.assertKeptAgrees()

    def test_each_field_written(self):
        # Amount, team, company and type regrade the deal (crm_lead_grade.py):
        # the figures are compared with the opportunities after those.
        self._grade_by_sql({self.b1: "a", self.a2: False})
        self.assertEqual(self._row("a")["count"], 2)
        self.assertEqual(self._row("a")["amount"], 40000.0)
        self.assertKeptAgrees()
        self.b1.sudo().grade = "d"  # through the ORM
        self.assertEqual(self._row("a")["count"], 1)
        self.assertKeptAgrees()
        self.a1.user_id = self.salesman2
        self.assertIsNone(self._row("a", self.salesman))
        self.assertKeptAgrees()
        self.a1.expected_revenue = 11000.0
        self.assertKeptAgrees()
        self.a1.team_id = self.west
        self.assertKeptAgrees()
        self.b1.company_id = self.branch
        self.assertKeptAgrees()
        self.a1.type = "lead"
        self.assertKeptAgrees()
        self.pool.convert_opportunity(self.partner)  # a graded lead qualifies
        self.assertKeptAgrees()

    def test_won_lost_archived_restored(self):
        self._tick_all(self.c1, self.manager)
        self.c1.with_user(self.manager).action_set_won()
        self.assertIsNone(self._row("c"))
        self.assertKeptAgrees()
        self._lose(self.b1)
        self.assertIsNone(self._row("b"))
        self.assertKeptAgrees()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET active = FALSE WHERE id = %s", [self.a1.id]
        )  # archived in SQL (a script, a job)
        self.a1.invalidate_recordset(["active"])
        self.assertKeptAgrees()
        (self.a1 | self.b1).action_unarchive()
        self.assertEqual(self._row("b")["count"], 1)
        self.assertKeptAgrees()
        self._tick_all(self.a2)
        self.a2.with_user(self.salesman).write({"stage_id": self.closing.id})
        self.assertKeptAgrees()

    def test_stage_becomes_won_and_back(self):
        self.proposal.write({"is_won": True, "win_rate": 100})
        self.assertEqual(self._row("a")["count"], 1, "A2 is in Proposal")
        self.assertKeptAgrees()
        self.proposal.write({"is_won": False, "win_rate": 50})
        self.assertEqual(self._row("a")["count"], 2)
        self.assertKeptAgrees()
        self.proposal.sequence += 1  # no change of is_won: nothing moves
        self.assertKeptAgrees()

    def test_grading_batch(self):
        """The regrade job grades the open opportunities (its batch writes)."""
        self.env["crm.lead"]._cron_regrade_opportunities()
        self.assertKeptAgrees()
        self.env["crm.lead"]._regrade_later_or_now([])
        self.assertKeptAgrees()

    def test_compaction_keeps_the_answer(self):
        self.a1.expected_revenue = 1.0
        self.a1.expected_revenue = 10000.0
        before = self._grades()
        self.env["crm.funnel.grade.sums"]._cron_compact()
        self.assertEqual(self._grades(), before)
        self.env.cr.execute(
            "SELECT count(*) FROM crm_funnel_grade_delta"
            " GROUP BY company_id, team_id, user_id, grade HAVING count(*) > 1"
        )
        self.assertFalse(self.env.cr.fetchall(), "one row per group")
        self.assertKeptAgrees()

    def test_record_rules(self):
        """A salesperson sees their own deals and nobody's; a company's own
        rule on the team's members is answered by the sums, a rule on another
        field by the opportunities: both as the opportunities' list."""
        mine = self._grades(self.salesman)
        self.assertEqual(sum(row["count"] for row in mine), 4)  # lead, A1, A2, free
        self.env["ir.rule"].create(
            {
                "name": "Opportunities of one's own sales teams",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "domain_force": "['|', ('team_id', '=', False),"
                " ('team_id.member_ids', 'in', [user.id])]",
            }
        )
        Lead = self.env["crm.lead"].with_user(self.salesman)
        self.assertIsNotNone(self.env["crm.funnel.grade.sums"]._by_grade([], Lead))
        self.assertKeptAgrees()
        self.env["ir.rule"].create(
            {
                "name": "Big deals only",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "domain_force": "[('expected_revenue', '>=', 10000)]",
            }
        )
        self.assertIsNone(self.env["crm.funnel.grade.sums"]._by_grade([], Lead))
        self.assertEqual(
            sum(row["count"] for row in self._grades(self.salesman)), 3
        )  # lead, A1, A2
        self.assertKeptAgrees(kept=False)

    def test_queries_do_not_grow_with_the_deals(self):
        Dashboard = self.env["crm.funnel.dashboard"].with_user(self.manager)
        Dashboard._grades([])
        with self.assertQueryCount(1):
            Dashboard._grades([])
        for n in range(20):
            self._new_lead(f"More {n}", self.salesman, self.development, 100.0)
        self.env.flush_all()
        with self.assertQueryCount(1):
            Dashboard._grades([])


@tagged("post_install", "-at_install")
class TestNeedLeadsKept(FunnelCase):
    """Lead conversion of the need: kept counts = the leads counted."""

    SINCE = date(2026, 1, 1)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Lead = cls.env["crm.lead"].with_context(active_test=False)
        Lead.search([]).unlink()
        cls.east = cls.env["crm.team"].create(
            {"name": "East", "member_ids": [Command.set(cls.salesman.ids)]}
        )
        cls.branch = cls.env["res.company"].create({"name": "Beijing branch"})
        (cls.env.user | cls.salesman | cls.salesman2).company_ids |= cls.branch

        def lead(name, user, **vals):
            return Lead.create(
                {
                    "name": name,
                    "type": "lead",
                    "user_id": user.id,
                    "funnel_source": "prospecting",
                    **vals,
                }
            )

        cls.l1 = lead("L1", cls.salesman, team_id=cls.east.id)
        cls.l2 = lead("L2", cls.salesman, team_id=cls.east.id)
        cls.l3 = lead("L3", cls.salesman2)
        cls.l4 = lead("L4", cls.salesman2, company_id=cls.branch.id)
        cls.l5 = lead("L5", cls.salesman2, company_id=False)
        cls.old = lead("Old", cls.salesman, team_id=cls.east.id)
        cls.edge = lead("Edge", cls.salesman, team_id=cls.east.id)
        cls._created(cls.l1 | cls.l2 | cls.l3 | cls.l4 | cls.l5, "2026-03-01 10:00")
        cls._created(cls.old, "2025-06-01 10:00")
        # The last second before ``since``: not of the twelve months.
        cls._created(cls.edge, "2025-12-31 23:59:59")
        cls.l1.convert_opportunity(cls.partner)
        cls.l2.action_archive()
        cls.old.action_archive()
        cls.edge.action_archive()
        cls.l4.convert_opportunity(cls.partner)
        cls.l5.action_archive()

    @classmethod
    def _created(cls, leads, when):
        """Creation dates written in SQL (the data of an import script)."""
        cls.env.flush_all()
        cls.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id IN %s",
            [when, tuple(leads.ids)],
        )
        leads.invalidate_recordset(["create_date"])

    def _leads(self, per_row=False, companies=None, since=None):
        Target = self.env["crm.sales.target"]
        if companies:
            Target = Target.with_context(allowed_company_ids=companies.ids)
        if per_row:
            Target = Target.with_context(**{LEADS_PER_ROW: True})
        return Target._need_leads(since or self.SINCE)

    def assertKeptAgrees(self):
        for companies in (None, self.company, self.branch, self.company | self.branch):
            with self.subTest(companies=companies and companies.ids):
                kept = self._leads(companies=companies)
                self.assertEqual(kept, self._leads(per_row=True, companies=companies))
        self.assertTrue(self._leads()[0], "some leads were decided")

    def test_hand_computed_counts(self):
        decided, waiting = self._leads(companies=self.company)
        # L1 converted, L2 lost (Old and Edge before since); L3 open; L4 is the
        # branch's, L5 of no company (lost).
        self.assertEqual(decided[("user", self.salesman.id)], (1, 1))
        self.assertEqual(decided[("team", self.east.id)], (1, 1))
        self.assertEqual(decided[("user", self.salesman2.id)], (0, 1))
        self.assertEqual(decided[("company",)], (1, 2))
        self.assertEqual(waiting[("company",)], 1)
        self.assertEqual(waiting[("user", self.salesman.id)], 0)
        self.assertEqual(self._leads(companies=self.branch)[0][("company",)], (1, 1))
        self.assertKeptAgrees()

    def test_since_is_midnight(self):
        self._created(self.edge, "2026-01-01 00:00:00")
        self.assertEqual(self._leads()[0][("team", self.east.id)], (1, 2))
        self.assertKeptAgrees()

    def test_since_any_day(self):
        """A date other than a month's first: the month's days before it are
        left out (L1–L5 were created on 1 March)."""
        self.assertEqual(self._leads(since=date(2026, 3, 2))[0].get(("company",)), None)
        self.assertEqual(self._leads(since=date(2026, 2, 28))[0][("company",)], (2, 2))
        for since in (
            date(2025, 12, 31),
            date(2026, 1, 2),
            date(2026, 3, 1),
            date(2026, 3, 2),
            date(2026, 2, 28),
            date(2025, 6, 15),
        ):
            with self.subTest(since=since):
                self.assertEqual(
                    self._leads(since=since), self._leads(per_row=True, since=since)
                )

    def test_each_write_path(self):
        new = self.env["crm.lead"].create(
            {
                "name": "New",
                "type": "lead",
                "user_id": self.salesman.id,
                "funnel_source": "prospecting",
            }
        )
        self.assertKeptAgrees()
        new.team_id = self.east
        self.assertKeptAgrees()
        new.user_id = self.salesman2
        self.assertKeptAgrees()
        new.company_id = self.branch
        self.assertKeptAgrees()
        new.convert_opportunity(self.partner)
        self.assertKeptAgrees()
        self._lose(new)  # a lost opportunity still counts as converted
        self.assertKeptAgrees()
        self.l2.action_unarchive()
        self.assertKeptAgrees()
        self.l3.action_archive()
        self.assertKeptAgrees()
        self.l3.copy()
        self.assertKeptAgrees()
        self.env.cr.execute(
            "UPDATE crm_lead SET date_conversion = NULL WHERE id = %s", [self.l1.id]
        )
        self.assertKeptAgrees()
        (self.l1 | self.l5).unlink()
        self.assertKeptAgrees()

    def test_import(self):
        result = self.env["crm.lead"].load(
            ["name", "type", "user_id"],
            [["Imported A", "lead", self.salesman.name], ["Imported B", "lead", ""]],
        )
        self.assertFalse(result["messages"], result)
        self.assertEqual(self._leads()[1][("company",)], 3)
        self.assertKeptAgrees()

    def test_compaction_keeps_the_answer(self):
        self.l3.team_id = self.east
        self.l3.team_id = False
        before = self._leads()
        self.env["crm.lead.conversion.sums"]._cron_compact()
        self.assertEqual(self._leads(), before)
        for table, group in (
            ("crm_lead_conversion_month_delta", "company_id, team_id, user_id, month"),
            ("crm_lead_conversion_delta", "company_id, team_id, user_id, day"),
            ("crm_lead_open_delta", "company_id, team_id, user_id"),
        ):
            self.env.cr.execute(
                f"SELECT count(*) FROM {table} GROUP BY {group} HAVING count(*) > 1"
            )
            self.assertFalse(self.env.cr.fetchall(), table)
        self.assertKeptAgrees()

    def test_one_query_whatever_the_leads(self):
        Target = self.env["crm.sales.target"]
        Target._need_leads(self.SINCE)
        with self.assertQueryCount(1):
            Target._need_leads(self.SINCE)
        self.env["crm.lead"].create(
            [{"name": f"More {n}", "type": "lead"} for n in range(20)]
        )
        self.env.flush_all()
        with self.assertQueryCount(1):
            Target._need_leads(self.SINCE)

    def test_salesperson_reads_the_same_counts(self):
        """The need counts over the allowed companies whatever the user may
        read (a salesperson's funnel needs the team's rates)."""
        other = new_test_user(
            self.env, "sf_other", groups="sales_team.group_sale_salesman"
        )
        Target = self.env["crm.sales.target"].with_user(other)
        self.assertEqual(
            Target._need_leads(self.SINCE),
            Target.with_context(**{LEADS_PER_ROW: True})._need_leads(self.SINCE),
        )
        self.assertTrue(Target._need_leads(self.SINCE)[0])
