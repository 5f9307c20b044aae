from odoo import Command, api
from odoo.modules.registry import Registry
from odoo.sql_db import db_connect
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL


@tagged("post_install", "-at_install")
class TestHandoffConcurrency(BaseCase):
    """Two real transactions at once, as two users (or a user and the job).

    Concurrency needs committed data: set-up and clean-up commit for real.
    """

    def setUp(self):
        super().setUp()
        self.dbname = get_db_name()
        self.registry = Registry(self.dbname)
        with self._cursor() as cr:
            env = self._env(cr)
            team = env["crm.team"].create({"name": "Concurrency team"})
            env["crm.team.member"].create(
                {"crm_team_id": team.id, "user_id": env.ref("base.user_admin").id}
            )
            partner = env["res.partner"].create(
                {"name": "并发测试客户有限公司", "is_company": True}
            )
            product = env["product.product"].create(
                {"name": "Concurrency product", "list_price": 10.0}
            )
            lead = env["crm.lead"].create(
                {
                    "name": "Won by two at once",
                    "type": "opportunity",
                    "partner_id": partner.id,
                    "user_id": env.ref("base.user_admin").id,
                    "team_id": team.id,
                    "stage_id": env.ref("sales_funnel.crm_stage_won").id,
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "line_type": "recurring",
                                "recurring_rule_type": "yearly",
                            }
                        )
                    ],
                }
            )
            self.assertTrue(lead.handoff_queued, "created won: queued")
            self.ids = {"team": team, "partner": partner, "product": product}
            self.ids = {key: rec.id for key, rec in self.ids.items()}
            self.lead_id = lead.id
            cr.commit()  # pylint: disable=invalid-commit
        self.addCleanup(self._cleanup)

    def _cursor(self):
        return db_connect(self.dbname).cursor()

    def _env(self, cr):
        return api.Environment(cr, api.SUPERUSER_ID, {})

    def _cleanup(self):
        with self._cursor() as cr:
            lead = self.lead_id
            for query in (
                "DELETE FROM contract_contract WHERE sales_funnel_handoff_lead_id = %s",
                "DELETE FROM sale_order WHERE sales_funnel_handoff_lead_id = %s",
                "DELETE FROM crm_lead WHERE id = %s",
            ):
                cr.execute(SQL(query, lead))
            env = self._env(cr)
            env["product.product"].browse(self.ids["product"]).unlink()
            env["res.partner"].browse(self.ids["partner"]).unlink()
            env["crm.team"].browse(self.ids["team"]).unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def _documents(self):
        with self._cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT (SELECT count(*) FROM sale_order
                                WHERE sales_funnel_handoff_lead_id = %(id)s),
                              (SELECT count(*) FROM contract_contract
                                WHERE sales_funnel_handoff_lead_id = %(id)s),
                              (SELECT count(*) FROM crm_lead_handoff_attempt
                                WHERE lead_id = %(id)s),
                              (SELECT handoff_status FROM crm_lead
                                WHERE id = %(id)s)""",
                    id=self.lead_id,
                )
            )
            return cr.fetchone()

    def test_user_retries_while_the_job_runs(self):
        with self._cursor() as cr_job, self._cursor() as cr_user:
            job = self._env(cr_job)["crm.lead"]
            user_lead = self._env(cr_user)["crm.lead"].browse(self.lead_id)
            job._cron_handoff()  # holds the deal, not committed yet
            action = user_lead.action_handoff()
            self.assertIn("someone else", action["params"]["message"])
            cr_user.commit()
            cr_job.commit()
        self.assertEqual(self._documents(), (1, 1, 1, "2"))

    def test_second_attempt_from_an_older_snapshot(self):
        with self._cursor() as cr_a, self._cursor() as cr_b:
            lead_a = self._env(cr_a)["crm.lead"].browse(self.lead_id)
            lead_b = self._env(cr_b)["crm.lead"].browse(self.lead_id)
            self.assertEqual(lead_b.handoff_status, "0")  # B's snapshot starts here
            lead_a.action_handoff()
            cr_a.commit()
            lead_b.action_handoff()  # B still sees status 0
            cr_b.commit()
        self.assertEqual(self._documents(), (1, 1, 1, "2"))
