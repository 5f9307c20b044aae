import importlib.util
from datetime import date

from odoo.tests import tagged
from odoo.tools.misc import file_path

from .common import FunnelCase

MONTH = date(2031, 3, 1)
NEXT = date(2031, 4, 1)


@tagged("post_install", "-at_install")
class TestFunnelSummary(FunnelCase):
    """The forecast aggregate is exact and current: hand-computed numbers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lead = cls._new_lead
        cls.a = lead("A", cls.salesman, cls.verification, 100000.0)
        cls.b = lead("B", cls.salesman, cls.proposal, 40000.0)
        cls.c = lead("C", cls.salesman2, cls.closing, 25000.0)
        cls.d = lead("D", cls.salesman, cls.development, 10000.0)
        (cls.a | cls.b | cls.c).date_deadline = date(2031, 3, 15)
        cls.d.date_deadline = date(2031, 4, 2)

    def _sums(self, domain=(), user=None):
        Summary = self.env["crm.funnel.summary"]
        if user:
            Summary = Summary.with_user(user)
        [(count, amount, weighted, committed, won)] = Summary._read_group(
            list(domain),
            aggregates=[
                "open_count:sum",
                "open_amount:sum",
                "weighted_amount:sum",
                "committed_amount:sum",
                "won_amount:sum",
            ],
        )
        return tuple(
            value or 0.0 for value in (count, amount, weighted, committed, won)
        )

    def test_month_figures_match_a_hand_computation(self):
        # 100,000 × 10% + 40,000 × 50% + 25,000 × 80% = 50,000; Closing: 25,000.
        self.assertEqual(
            self._sums([("period", "=", MONTH)]),
            (3, 165000.0, 50000.0, 25000.0, 0.0),
        )
        self.assertEqual(self._sums([("period", "=", NEXT)])[:3], (1, 10000.0, 3000.0))

    def test_every_change_counts_at_once(self):
        self.b.expected_revenue = 60000.0  # +20,000 × 50%
        self.assertEqual(self._sums([("period", "=", MONTH)])[2], 60000.0)
        self.a.date_deadline = NEXT  # leaves March
        self.assertEqual(self._sums([("period", "=", MONTH)])[:2], (2, 85000.0))
        self._tick_all(self.b)
        self.b.with_user(self.salesman).write({"stage_id": self.closing.id})
        # B now weighs 80% and is committed.
        self.assertEqual(
            self._sums([("period", "=", MONTH)])[2:4], (48000.0 + 20000.0, 85000.0)
        )
        self._lose(self.c)
        self.assertEqual(self._sums([("period", "=", MONTH)])[:2], (1, 60000.0))

    def test_won_counts_in_the_month_it_closed(self):
        self._tick_all(self.c, self.manager)
        self.c.with_user(self.manager).action_set_won()
        closed = self.c.date_closed.date().replace(day=1)
        self.assertEqual(self._sums([("period", "=", closed)])[4], 25000.0)
        self.assertEqual(self._sums([("period", "=", MONTH)])[:2], (2, 140000.0))

    def test_win_rate_change_reweighs_the_stage(self):
        self.proposal.win_rate = 60
        self.assertEqual(self._sums([("period", "=", MONTH)])[2], 54000.0)

    def test_salesperson_sees_own_numbers_only(self):
        self.assertEqual(
            self._sums([("period", "=", MONTH)], user=self.salesman)[:3],
            (2, 140000.0, 30000.0),
        )
        self.assertEqual(
            self._sums([("period", "=", MONTH)], user=self.manager)[:3],
            (3, 165000.0, 50000.0),
        )

    def test_agrees_with_the_opportunities_and_survives_compaction(self):
        leads = self.env["crm.lead"].search(
            [("type", "=", "opportunity"), ("stage_id.is_won", "=", False)]
        )
        expected = sum(
            lead.expected_revenue * lead.stage_id.win_rate / 100 for lead in leads
        )
        self.assertAlmostEqual(self._sums()[2], expected, places=2)
        self.b.expected_revenue = 1.0
        self.b.expected_revenue = 40000.0
        before = self._sums()
        self.env["crm.funnel.summary"]._cron_compact()
        self.assertEqual(self._sums(), before)
        self.env.cr.execute(
            "SELECT count(*) FROM crm_funnel_delta"
            " GROUP BY company_id, team_id, user_id, stage_id, period, won"
            " HAVING count(*) > 1"
        )
        self.assertFalse(self.env.cr.fetchall(), "one row per group after compaction")

    def test_other_company(self):
        other = self.env["res.company"].create({"name": "Beijing branch"})
        lead = self._new_lead("E", self.salesman, self.proposal, 5000.0)
        self.salesman.company_ids |= other
        lead.write({"company_id": other.id, "date_deadline": date(2031, 3, 3)})
        self.assertEqual(
            self._sums([("period", "=", MONTH), ("company_id", "=", other.id)])[:3],
            (1, 5000.0, 2500.0),
        )
        self.assertEqual(
            self._sums([("period", "=", MONTH), ("company_id", "=", self.company.id)])[
                :3
            ],
            (3, 165000.0, 50000.0),
        )

    def test_one_cron_per_compaction(self):
        """The forecast and the stage flow are compacted by a cron each, also in a
        database upgraded from 18.0.1.0.0 (where one cron did both)."""
        summary = self.env.ref("sales_funnel.ir_cron_funnel_summary_compact")
        flow = self.env.ref("sales_funnel.ir_cron_stage_flow_compact")
        self.assertEqual(
            [(cron.model_id.model, cron.code) for cron in summary | flow],
            [
                ("crm.funnel.summary", "model._cron_compact()"),
                ("crm.stage.flow", "model._cron_compact()"),
            ],
        )
        # The upgrade turns the former cron of both jobs into the forecast's.
        summary.code = 'model._cron_compact()\nenv["crm.stage.flow"]._cron_compact()'
        summary.name = "Sales Funnel: compact the forecast and stage-flow figures"
        path = file_path(
            "sales_funnel/migrations/18.0.1.1.0/post-split-compact-cron.py"
        )
        spec = importlib.util.spec_from_file_location("split_compact_cron", path)
        script = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(script)
        script.migrate(self.env.cr, "18.0.1.0.0")
        self.assertEqual(summary.code, "model._cron_compact()")
        self.assertEqual(summary.name, "Sales Funnel: compact the forecast figures")
