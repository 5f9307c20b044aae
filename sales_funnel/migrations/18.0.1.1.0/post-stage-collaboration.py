"""Collaboration at stage entry: Development brings in the solutions team,
Proposal the technical team.

A new installation gets these lines from a ``noupdate`` data file, which an
update does not run: an installed database gets them here (once; the stage
form edits them afterwards). The teams are the user groups Solutions Engineers
and Technical Support, empty until people are added to them.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.stage.collaboration"]._install_default_collaboration()
