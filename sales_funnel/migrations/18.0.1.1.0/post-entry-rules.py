"""The funnel's entry rules: Verification requires the customer's facts.

The stage is ``noupdate``: an installed database gets the default required
facts here (unless a manager already chose some). Existing customers keep
their names; the normalised registered name is computed by the upgrade, and
twins entered before the rule are still caught by the hand-off.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.stage"]._set_default_required_facts()
