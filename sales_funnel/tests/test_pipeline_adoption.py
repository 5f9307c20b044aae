from odoo.addons.sales_funnel.hooks import post_init_hook

from ..report.crm_funnel_source_report import PER_ROW
from ..report.crm_funnel_source_sums import AGGREGATES
from .common import FunnelCase


class TestPipelineAdoption(FunnelCase):
    """The installation hook on a pipeline that still has Odoo's default stages."""

    def _default_stage(self, xmlid, name, sequence):
        """One of crm's default stages, as on a database where crm ran alone."""
        stage = self.env["crm.stage"].create({"name": name, "sequence": sequence})
        self.env["ir.model.data"].create(
            {
                "module": "crm",
                "name": xmlid,
                "model": "crm.stage",
                "res_id": stage.id,
                "noupdate": True,
            }
        )
        return stage

    def test_stage_in_use_is_left_untouched(self):
        new = self._default_stage("stage_lead1", "New", 1)
        qualified = self._default_stage("stage_lead2", "Qualified", 2)
        # The company had added a criterion of its own to crm's Qualified stage.
        criterion = self.env["crm.stage.criterion"].create(
            {"stage_id": qualified.id, "name": "Site survey report filed"}
        )
        fresh = self._new_lead("Pump station", self.salesman, stage=new)
        lost = self._new_lead("Tunnel lighting", self.salesman, stage=qualified)
        self._lose(lost)
        # Opportunities of before the installation have no history yet.
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM crm_lead_stage_history WHERE lead_id IN %s",
            [(fresh.id, lost.id)],
        )
        self.env.invalidate_all()

        post_init_hook(self.env)

        # Every opportunity, open or lost, is in the funnel stage that replaces
        # its default stage, with its stage's win rate.
        self.assertEqual(fresh.stage_id, self.verification)
        self.assertEqual(fresh.probability, self.verification.win_rate)
        self.assertEqual(lost.stage_id, self.development)
        self.assertFalse(lost.active)
        self.assertEqual(lost.loss_report_id.stage_id, self.development)
        # The unused default stage is gone; the one still in use is as it was,
        # with the company's criterion and the checklist line ticked against it.
        self.assertFalse(new.exists())
        self.assertTrue(qualified.exists())
        self.assertEqual((qualified.name, qualified.sequence), ("Qualified", 2))
        self.assertEqual(criterion.stage_id, qualified)
        self.assertEqual(
            lost.with_context(active_test=False).criterion_ids.criterion_id, criterion
        )
        # Source Effectiveness' kept sums follow the re-labelled opportunities.
        Report = self.env["crm.funnel.source.report"]
        groupby = ["funnel_source", "step", "stage_id", "user_id"]
        self.env.invalidate_all()
        self.assertEqual(
            Report._read_group([], groupby, list(AGGREGATES)),
            Report.with_context(**{PER_ROW: True})._read_group(
                [], groupby, list(AGGREGATES)
            ),
        )

    def test_lost_deal_and_its_report_move_together(self):
        """A deal lost in a default stage, with its loss report (as crm's own
        demo deal, lost before the funnel's demo wrote its report): the report
        says it was lost at the funnel stage, and the default stage, now
        unused, is removed."""
        new = self._default_stage("stage_lead1", "New", 1)
        lost = self._new_lead("Office furniture", self.salesman, stage=new)
        self._lose(lost)
        self.assertEqual(lost.loss_report_id.stage_id, new)
        # An opportunity of before the installation has no history yet.
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM crm_lead_stage_history WHERE lead_id = %s", [lost.id]
        )
        self.env.invalidate_all()

        post_init_hook(self.env)

        self.assertEqual(lost.stage_id, self.verification)
        self.assertEqual(lost.loss_report_id.stage_id, self.verification)
        self.assertFalse(new.exists())
