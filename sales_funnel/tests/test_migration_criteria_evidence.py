import importlib.util
from pathlib import Path

from odoo.tests import TransactionCase, tagged

SCRIPT = (
    Path(__file__).resolve().parent.parent
    / "migrations"
    / "18.0.1.1.0"
    / "post-criteria-evidence.py"
)


def _migration():
    spec = importlib.util.spec_from_file_location("post_criteria_evidence", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestCriteriaEvidenceMigration(TransactionCase):
    """A database installed with 18.0.1.0.0 gets the shipped criteria wired to
    their documents; what the company changed itself stays."""

    def test_upgrade_wires_the_shipped_criteria(self):
        Criterion = self.env["crm.stage.criterion"].with_context(active_test=False)
        shipped = Criterion.search([]).filtered(
            lambda criterion: criterion.get_external_id()[criterion.id].startswith(
                "sales_funnel."
            )
        )
        # As released: no criterion asks for evidence; the old stage texts.
        shipped.write({"evidence_type": "none", "evidence_auto_tick": False})
        coach = self.env.ref("sales_funnel.criterion_development_03")
        own = self.env.ref("sales_funnel.criterion_verification_06")
        proposal = self.env.ref("sales_funnel.crm_stage_proposal")
        closing = self.env.ref("sales_funnel.crm_stage_closing")
        proposal.verification_output = (
            "Approved proposal with ROI analysis and preliminary after-sales plan."
        )
        closing.verification_output = "Our own closing text."
        # The company's own choice before the upgrade stays.
        own.write({"evidence_type": "attachment"})

        _migration().migrate(self.env.cr, "18.0.1.0.0")
        self.env.invalidate_all()

        self.assertEqual(
            (
                coach.evidence_type,
                coach.evidence_card_section,
                coach.evidence_auto_tick,
            ),
            ("card_section", "coach", True),
        )
        self.assertEqual(
            self.env.ref("sales_funnel.criterion_proposal_04").evidence_role,
            "decision_maker",
        )
        self.assertEqual(own.evidence_type, "attachment")
        self.assertIn("trial report", proposal.verification_output)
        self.assertEqual(closing.verification_output, "Our own closing text.")
