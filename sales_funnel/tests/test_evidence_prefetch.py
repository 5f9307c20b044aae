import re
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from .common import FunnelCase


@tagged("post_install", "-at_install")
class TestEvidencePrefetch(FunnelCase):
    """Entering a stage reads the Basic Facts Card, its buying roles and the
    existing-problem records in one query, whatever documents the deal has."""

    def _documented_lead(self, name):
        lead = self._new_lead(name, self.salesman)
        contacts = self.env["res.partner"].create(
            [
                {"name": f"{role} of {name}", "parent_id": self.partner.id}
                for role in ("coach", "decision_maker")
            ]
        )
        self.env["crm.lead.fact.card"].create(
            {
                "lead_id": lead.id,
                "organisation": "<p>Plant manager → procurement → director</p>",
                "role_ids": [
                    Command.create({"role": "coach", "partner_id": contacts[0].id}),
                    Command.create(
                        {"role": "decision_maker", "partner_id": contacts[1].id}
                    ),
                ],
            }
        )
        self.env["crm.lead.problem"].create(
            [
                {"lead_id": lead.id, "name": "Dim warehouse", "sequence": 5},
                {"lead_id": lead.id, "name": "Night shift errors", "sequence": 1},
            ]
        )
        return lead

    _DOCUMENTS = re.compile(
        r'FROM\s+"?(crm_lead_fact_card|crm_lead_buying_role|crm_lead_problem)\b'
    )

    # Whether a linked document still exists (a Reference field's check).
    _EXISTS = re.compile(r'^SELECT "(\w+)"\."id" FROM "\1" WHERE "\1"\."id" IN %s$')

    def _document_reads(self, leads):
        """The queries that read the documents while ``leads`` enter Development
        (the existence checks of the links written aside)."""
        self._tick_all(leads)
        self.env.flush_all()
        self.env.invalidate_all()
        leads = leads.with_user(self.salesman)
        reads = []
        cursor_class = type(self.env.cr)
        execute = cursor_class.execute

        def logged(cr, query, params=None, log_exceptions=True):
            text = getattr(query, "code", query)
            if text.lstrip().upper().startswith(("SELECT", "WITH")):
                if self._DOCUMENTS.search(text) and not self._EXISTS.match(text):
                    reads.append(text)
            return execute(cr, query, params, log_exceptions)

        with patch.object(cursor_class, "execute", logged):
            leads.write({"stage_id": self.development.id})
            self.env.flush_all()
        return reads

    def _line(self, lead, xml_id):
        criterion = self.env.ref(f"sales_funnel.{xml_id}")
        return lead.criterion_ids.filtered(lambda line: line.criterion_id == criterion)

    def test_documents_are_read_in_one_query(self):
        documented = self._documented_lead("Documented")
        self.assertEqual(len(self._document_reads(documented)), 1)
        # What the documents answer is ticked, linked to them.
        coach = self._line(documented, "criterion_development_03")
        needs = self._line(documented, "criterion_development_06")
        self.assertTrue(coach.done and needs.done)
        self.assertEqual(coach.evidence_ref, documented.fact_card_ids)
        # The newest problem in the record's order (sequence, then id).
        self.assertEqual(needs.evidence_ref.name, "Dim warehouse")

    def test_several_deals_in_one_move(self):
        documented = self._documented_lead("Documented")
        bare = self._new_lead("No documents", self.salesman)
        self.assertEqual(len(self._document_reads(documented | bare)), 1)
        for line in ("criterion_development_03", "criterion_development_06"):
            self.assertTrue(self._line(documented, line).done)
            self.assertFalse(self._line(bare, line).done)
