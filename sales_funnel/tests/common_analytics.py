from odoo import fields

from .test_funnel import FunnelCase


class AnalyticsCase(FunnelCase):
    """Opportunities moved through the funnel by the real write path at
    frozen times, so the stage history is what users would have produced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Hand-computed totals must not depend on demo or other data.
        cls.env["crm.lead"].with_context(active_test=False).search(
            [("id", "!=", cls.lead.id)]
        ).unlink()
        cls.lead.unlink()

    def _create(self, name, when, user=None, revenue=100000.0, **vals):
        with self._at(when):
            lead = self.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "opportunity",
                    "partner_id": self.partner.id,
                    "user_id": (user or self.salesman).id,
                    "stage_id": self.verification.id,
                    "expected_revenue": revenue,
                    **vals,
                }
            )
            self.env.flush_all()
            self.env.cr.precommit.run()
        return lead

    def _move(self, lead, stage, when):
        """Tick the current stage's required criteria, then move (as its owner)."""
        with self._at(when):
            owner = lead.user_id or self.salesman
            self._tick_all(lead, owner)
            lead.with_user(owner).write({"stage_id": stage.id})
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _walk(self, lead, steps):
        for stage, when in steps:
            self._move(lead, stage, when)

    def _win(self, lead, when):
        with self._at(when):
            self._tick_all(lead, lead.user_id)
            lead.with_user(lead.user_id).action_set_won()
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _lose(self, lead, when):
        with self._at(when):
            lead.with_user(lead.user_id).action_set_lost()
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _restore(self, lead, when):
        with self._at(when):
            lead.with_user(lead.user_id).action_unarchive()
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _write(self, lead, vals, when):
        """A tracked change (salesperson, amount) made at ``when``."""
        with self._at(when):
            lead.write(vals)
            self.env.flush_all()
            self.env.cr.precommit.run()

    @staticmethod
    def _day(value):
        return fields.Datetime.to_datetime(value)
