"""The hand-over of a leaving salesperson's funnel (离职交接).

The funnel is the basis of the hand-over when a salesperson leaves: the
hand-over wizard (wizards/crm_salesperson_handover_wizard.py) gives their open
opportunities, leads, won deals still waiting for their hand-off to orders,
planned activities, targets of periods not yet ended and unsubmitted forecasts
to colleagues, and records here what went to whom. A hand-over is kept as it
was done (``crm.immutable.mixin``), its note aside; it prints as a PDF. Once
nothing of the salesperson's is left, a sales manager archives the account
from it.

The stage history is not rewritten: each of its rows names the salesperson
of the deal at the time of the event (``salesperson_id``), and a hand-over
changes no stage, so the rows written before it keep the former owner, those
written after it name the colleague; crm tracks the change of salesperson in
the chatter (read by the pipeline as of a day), and the lines here say who
owned each deal before.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import funnel_terms as terms
from .crm_lead_handoff import HANDOFF_RETRYABLE

# What a hand-over gives to a colleague, in the order it is listed.
HANDOVER_KINDS = [
    ("opportunity", "Open Opportunity"),
    ("lead", "Lead"),
    ("won_deal", "Won Deal Awaiting Hand-off"),
    ("activity", "Planned Activity"),
    ("target", "Sales Target"),
    ("forecast", "Unsubmitted Forecast"),
]
HANDOVER_MODES = [
    ("all", "All to One Colleague"),
    ("team", "Split by Sales Team"),
    ("customer", "Split by Customer"),
]


class CrmSalespersonHandover(models.Model):
    _name = "crm.salesperson.handover"
    _inherit = ["mail.thread", "crm.immutable.mixin"]
    _description = "Salesperson Hand-over"
    _order = "date desc, id desc"
    _immutable_writable_fields = ("note", "message_main_attachment_id")

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False)
    user_id = fields.Many2one(
        "res.users",
        string="Leaving Salesperson",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
        context={"active_test": False},
    )
    user_active = fields.Boolean(
        related="user_id.active", string="Account Active", related_sudo=True
    )
    manager_id = fields.Many2one(
        "res.users", string="Handed Over By", required=True, readonly=True
    )
    date = fields.Datetime(string="Handed Over On", required=True, readonly=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        help="The company the sales manager worked in; the lines say the company "
        "of each record.",
    )
    mode = fields.Selection(
        HANDOVER_MODES, string="Split", required=True, readonly=True, default="all"
    )
    line_ids = fields.One2many(
        "crm.salesperson.handover.line", "handover_id", string="Handed Over"
    )
    recipient_ids = fields.Many2many(
        "res.users",
        string="Colleagues",
        compute="_compute_recipient_ids",
        help="The colleagues who took something over.",
    )
    opportunity_count = fields.Integer(compute="_compute_totals")
    opportunity_amount = fields.Monetary(
        string="Opportunities' Expected Revenue",
        compute="_compute_totals",
        currency_field="currency_id",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_archived_date = fields.Datetime(
        string="Account Archived On", readonly=True, copy=False
    )
    note = fields.Text(help="Anything the colleagues should know about the hand-over.")

    @api.depends("line_ids.to_user_id")
    def _compute_recipient_ids(self):
        for handover in self:
            handover.recipient_ids = handover.line_ids.to_user_id

    @api.depends("line_ids.kind", "line_ids.amount")
    def _compute_totals(self):
        for handover in self:
            deals = handover.line_ids.filtered(
                lambda line: line.kind in ("opportunity", "won_deal")
            )
            handover.opportunity_count = len(deals)
            handover.opportunity_amount = sum(
                deals.filtered(
                    lambda line, h=handover: line.currency_id == h.currency_id
                ).mapped("amount")
            )

    # ------------------------------------------------------------------
    # What a salesperson owns
    # ------------------------------------------------------------------

    @api.model
    def _owned_records(self, user, companies=None):
        """What ``user`` owns that a hand-over gives to colleagues, by kind
        ({kind: records}), in ``companies`` (None: every company, as superuser).

        With companies, the records are searched under the access rights of the
        current user (a sales manager): what they cannot read stays out."""
        env = self.env if companies is not None else self.sudo().env
        company_domain = (
            [("company_id", "in", [*companies.ids, False])]
            if companies is not None
            else []
        )
        Lead = env["crm.lead"].with_context(active_test=True)
        owned = {
            "opportunity": Lead.search(
                [
                    *terms.OPEN_OPPORTUNITY_DOMAIN,
                    ("user_id", "=", user.id),
                    *company_domain,
                ]
            ),
            "lead": Lead.search(
                [
                    ("active", "=", True),
                    ("type", "=", "lead"),
                    ("user_id", "=", user.id),
                    *company_domain,
                ]
            ),
            # Won deals that still have to reach the order system are
            # transmitted under their salesperson's name.
            "won_deal": Lead.search(
                [
                    *terms.FUNNEL_OPPORTUNITY_DOMAIN,
                    ("stage_id.is_won", "=", True),
                    ("handoff_status", "in", HANDOFF_RETRYABLE),
                    ("user_id", "=", user.id),
                    *company_domain,
                ]
            ),
            "activity": self._owned_activities(user, companies),
            "target": env["crm.sales.target"].search(
                [
                    ("user_id", "=", user.id),
                    ("date_to", ">=", fields.Date.context_today(self)),
                    *company_domain,
                ]
            ),
            "forecast": env["crm.forecast.submission"].search(
                [
                    ("state", "=", "draft"),
                    "|",
                    ("user_id", "=", user.id),
                    ("submitter_id", "=", user.id),
                    *company_domain,
                ]
            ),
        }
        return owned

    @api.model
    def _owned_activities(self, user, companies=None):
        """The planned activities assigned to ``user``, on any record; with
        ``companies``, those on records of these companies (or of none)."""
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search([("user_id", "=", user.id)], order="date_deadline, id")
        )
        if companies is None:
            return activities
        kept = self.env["mail.activity"].sudo()
        for model, same_model in activities.grouped("res_model").items():
            Model = self.env.get(model)
            if Model is None:
                continue
            if "company_id" not in Model._fields:
                kept |= same_model
                continue
            documents = (
                Model.sudo()
                .with_context(active_test=False)
                .browse(same_model.mapped("res_id"))
                .exists()
            )
            company_of = {doc.id: doc.company_id for doc in documents}
            kept |= same_model.filtered(
                lambda activity, company_of=company_of: (
                    activity.res_id in company_of
                    and (
                        not company_of[activity.res_id]
                        or company_of[activity.res_id] in companies
                    )
                )
            )
        return kept

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _check_manager(self):
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._(
                    "Only sales managers can hand over a salesperson's funnel or "
                    "archive their account."
                )
            )

    def _left_over_message(self, owned):
        """The list of what is still owned, for a refusal."""
        Line = self.env["crm.salesperson.handover.line"]
        kinds = dict(Line._fields["kind"]._description_selection(self.env))
        lines = []
        for kind, records in owned.items():
            if not records:
                continue
            names = ", ".join(Line._record_name(record) for record in records[:5])
            if len(records) > 5:
                names += ", …"
            lines.append(f"- {kinds[kind]} ({len(records)}): {names}")
        return "\n".join(lines)

    def action_archive_user(self):
        """Archive the account of the salesperson handed over, once nothing of
        theirs is left without an owner (in any company)."""
        self.ensure_one()
        self._check_manager()
        user = self.user_id.sudo()
        if not user.active:
            raise UserError(
                self.env._(
                    "The account of %(user)s is already archived.", user=user.name
                )
            )
        if user == self.env.user:
            raise UserError(self.env._("You cannot archive your own account."))
        if user._is_admin():
            raise UserError(
                self.env._(
                    "%(user)s is an administrator: ask another administrator to "
                    "archive the account.",
                    user=user.name,
                )
            )
        owned = self._owned_records(user)
        if any(owned.values()):
            raise UserError(
                self.env._(
                    "%(user)s still owns records that would be left without an "
                    "owner; hand them over first (in each company):\n%(records)s",
                    user=user.name,
                    records=self._left_over_message(owned),
                )
            )
        user.action_archive()
        self._write_record({"user_archived_date": fields.Datetime.now()})
        self.message_post(
            body=self.env._(
                "The account of %(user)s was archived by %(manager)s.",
                user=user.name,
                manager=self.env.user.name,
            ),
            subtype_xmlid="mail.mt_note",
        )
        return True

    def action_print(self):
        self.ensure_one()
        return self.env.ref(
            "sales_funnel.crm_salesperson_handover_action_print"
        ).report_action(self)
