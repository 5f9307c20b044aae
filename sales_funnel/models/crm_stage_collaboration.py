"""Collaboration at stage entry: who a stage brings in (自动通知到相关的同事).

A stage names a team (a user group such as the shipped Solutions Engineers or
Technical Support) and/or users; when an opportunity enters the stage, each of
them gets an activity on it (``CrmLead._schedule_stage_entry_activity``,
crm_lead_collaboration.py).
"""

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

# The collaboration shipped with the funnel: (xml id of the line, of its stage,
# of its group). Created on installation and, for installed databases, by the
# migration to 18.0.1.1.0; editable afterwards (and not brought back if removed).
DEFAULT_COLLABORATION = [
    (
        "crm_stage_collaboration_development",
        "sales_funnel.crm_stage_development",
        "sales_funnel.group_solutions_engineer",
    ),
    (
        "crm_stage_collaboration_proposal",
        "sales_funnel.crm_stage_proposal",
        "sales_funnel.group_technical_support",
    ),
]


class CrmStageCollaboration(models.Model):
    _name = "crm.stage.collaboration"
    _description = "Stage Collaboration"
    _order = "stage_id, sequence, id"

    stage_id = fields.Many2one(
        "crm.stage", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    group_id = fields.Many2one(
        "res.groups",
        string="Team",
        ondelete="set null",
        help="Every member of this user group is brought in (e.g. Solutions "
        "Engineers). Add people to the group in Settings > Users.",
    )
    user_ids = fields.Many2many(
        "res.users",
        "crm_stage_collaboration_res_users_rel",
        "collaboration_id",
        "user_id",
        string="Users",
        domain="[('share', '=', False)]",
        help="People brought in besides the team's members.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        required=True,
        default=lambda self: self.env.ref(
            "mail.mail_activity_data_todo", raise_if_not_found=False
        ),
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
    )
    summary = fields.Char(
        translate=True,
        help="Summary of the activity. Empty: the activity type's summary, else "
        "“Join the deal at <stage>” in the collaborator's language.",
    )
    delay_days = fields.Integer(
        string="Due After (days)",
        default=2,
        help="Days after the stage entry the activity is due.",
    )

    @api.constrains("delay_days")
    def _check_delay_days(self):
        for line in self:
            if line.delay_days < 0:
                raise ValidationError(
                    self.env._(
                        "The activity of the collaboration on “%(stage)s” cannot be "
                        "due before the entry (%(days)s days): enter 0 or more days.",
                        stage=line.stage_id.name,
                        days=line.delay_days,
                    )
                )

    @api.constrains("group_id", "user_ids")
    def _check_collaborators(self):
        for line in self:
            if not line.group_id and not line.user_ids:
                raise ValidationError(
                    self.env._(
                        "A collaboration on “%(stage)s” names a team or users: "
                        "choose a team (user group), users, or both.",
                        stage=line.stage_id.name,
                    )
                )

    @api.model
    def _collaborators(self, stages):
        """{stage id: [(line, user ids)]}: who each line of ``stages`` brings
        in, the members of its team and its users, active internal users only,
        in one query. (The company of the deal is checked by the caller.)"""
        if not stages:
            return {}
        self.flush_model(["stage_id", "sequence", "group_id", "user_ids"])
        self.env["res.users"].flush_model(["active", "share", "groups_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT line.stage_id, line.id,
                       array_agg(DISTINCT member.user_id ORDER BY member.user_id)
                  FROM crm_stage_collaboration line
                  JOIN (SELECT collaboration.id AS line_id, rel.uid AS user_id
                          FROM crm_stage_collaboration collaboration
                          JOIN res_groups_users_rel rel
                            ON rel.gid = collaboration.group_id
                        UNION ALL
                        SELECT collaboration_id, user_id
                          FROM crm_stage_collaboration_res_users_rel) member
                    ON member.line_id = line.id
                  JOIN res_users users
                    ON users.id = member.user_id AND users.active
                       AND users.share IS NOT TRUE
                 WHERE line.stage_id IN %s
                 GROUP BY line.stage_id, line.id, line.sequence
                 ORDER BY line.stage_id, line.sequence, line.id
                """,
                tuple(stages.ids),
            )
        )
        result = {}
        for stage_id, line_id, user_ids in rows:
            result.setdefault(stage_id, []).append((self.browse(line_id), user_ids))
        return result

    @api.model
    def _install_default_collaboration(self):
        """Bring the solutions team in at Development and the technical team
        at Proposal (installation and migration; idempotent). A stage or group
        that no longer exists is skipped."""
        IrModelData = self.env["ir.model.data"]
        todo = []
        for xml_id, stage_xml_id, group_xml_id in DEFAULT_COLLABORATION:
            if self.env.ref(f"sales_funnel.{xml_id}", raise_if_not_found=False):
                continue
            stage = self.env.ref(stage_xml_id, raise_if_not_found=False)
            group = self.env.ref(group_xml_id, raise_if_not_found=False)
            if not stage or not group or group in stage.collaboration_ids.group_id:
                continue
            line = self.sudo().create({"stage_id": stage.id, "group_id": group.id})
            # noupdate: the end of a module update keeps it (edited or not).
            todo.append(
                {"xml_id": f"sales_funnel.{xml_id}", "record": line, "noupdate": True}
            )
        if todo:
            IrModelData._update_xmlids(todo)
        return True
