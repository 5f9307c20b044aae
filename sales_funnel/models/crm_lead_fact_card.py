from odoo import api, fields, models, tools

# The sections the completeness of a card counts, in the order the form shows
# them (labels: crm.stage.criterion's CARD_SECTIONS).
COMPLETENESS_SECTIONS = (
    "decision_maker",
    "coach",
    "buyer",
    "organisation",
    "value_points",
    "budget",
    "funds",
)

# The customer's buying process, as the seeds' Development stage asks for it
# (客户所处购买阶段).
BUYING_STAGES = [
    ("need", "Need recognised"),
    ("requirements", "Requirements being defined"),
    ("evaluation", "Evaluating solutions"),
    ("purchase_request", "Purchase request and budget approval"),
    ("tender", "Tender and shortlist"),
    ("decision", "Decision and contract"),
]


class CrmLeadFactCard(models.Model):
    """The Basic Facts Card (基本事实卡) of one opportunity: the customer's
    buying centre, organisation and procurement process, what the decision
    maker values, the buying stage, the budget and where the money comes from.
    """

    _name = "crm.lead.fact.card"
    _description = "Basic Facts Card"
    _inherit = ["mail.thread", "crm.lead.document.mixin"]
    _order = "id desc"
    _rec_names_search = ["lead_id", "partner_id"]

    lead_id = fields.Many2one(readonly=True)
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id")
    role_ids = fields.One2many(
        "crm.lead.buying.role", "card_id", string="Buying Centre", copy=True
    )
    organisation = fields.Html(
        string="Organisation and Procurement Process",
        help="Who reports to whom, who approves a purchase and how "
        "(组织架构和采购流程).",
    )
    value_point_1 = fields.Char(
        string="First Value Point",
        tracking=True,
        help="One of the two values the decision maker cares most about "
        "(采购决策者最关注的两个价值点).",
    )
    value_point_2 = fields.Char(string="Second Value Point", tracking=True)
    buying_stage = fields.Selection(
        BUYING_STAGES,
        string="Customer's Buying Stage",
        tracking=True,
    )
    has_budget = fields.Boolean(string="Budget Exists", tracking=True)
    budget_amount = fields.Monetary(
        string="Budget", currency_field="currency_id", tracking=True
    )
    funds_source = fields.Char(
        string="Source of Funds",
        tracking=True,
        help="Where the money comes from (资金来源): own funds, a group "
        "allocation, a government programme, a loan...",
    )
    completeness = fields.Integer(
        string="Completeness (%)",
        compute="_compute_completeness",
        store=True,
        aggregator="avg",
        help="Share of the sections filled in: decision maker, coach and buyer "
        "named, organisation and process described, the two value points, "
        "budget confirmed, source of funds.",
    )
    missing_sections = fields.Char(compute="_compute_missing_sections")

    _sql_constraints = [
        (
            "lead_unique",
            "UNIQUE(lead_id)",
            "An opportunity has one Basic Facts Card.",
        ),
    ]

    @api.depends("lead_id")
    def _compute_display_name(self):
        for card in self:
            card.display_name = self.env._(
                "Basic Facts Card: %(opportunity)s", opportunity=card.lead_id.name
            )

    @api.depends("company_id")
    def _compute_currency_id(self):
        for card in self:
            card.currency_id = (card.company_id or self.env.company).currency_id

    @api.depends(
        "role_ids.role",
        "role_ids.partner_id",
        "organisation",
        "value_point_1",
        "value_point_2",
        "buying_stage",
        "has_budget",
        "budget_amount",
        "funds_source",
    )
    def _compute_completeness(self):
        total = len(COMPLETENESS_SECTIONS)
        for card in self:
            missing = len(card._missing_sections())
            card.completeness = round(100 * (total - missing) / total)

    @api.depends("completeness")
    @api.depends_context("lang")
    def _compute_missing_sections(self):
        labels = dict(
            self.env["crm.stage.criterion"]
            ._fields["evidence_card_section"]
            ._description_selection(self.env)
        )
        for card in self:
            card.missing_sections = ", ".join(
                labels[name] for name in card._missing_sections()
            )

    def _roles_named(self):
        """The buying roles that have a contact on the card."""
        self.ensure_one()
        return set(self.role_ids.filtered("partner_id").mapped("role"))

    def _section_done(self, section):
        """Whether ``section`` (a value of crm.stage.criterion's
        evidence_card_section) is filled in; reads only what it needs."""
        self.ensure_one()
        if section == "basics":
            return self._section_done("organisation") and self._section_done(
                "buying_roles"
            )
        if section == "complete":
            return not self._missing_sections()
        if section in ("decision_maker", "coach", "buyer"):
            return section in self._roles_named()
        if section == "buying_roles":
            return {"user", "influencer", "decision_maker", "buyer"} <= (
                self._roles_named()
            )
        if section == "organisation":
            return not tools.is_html_empty(self.organisation)
        if section == "value_points":
            return bool(
                (self.value_point_1 or "").strip()
                and (self.value_point_2 or "").strip()
            )
        if section == "budget":
            return bool(
                self.has_budget
                and self.currency_id.compare_amounts(self.budget_amount, 0) > 0
            )
        if section == "funds":
            return bool((self.funds_source or "").strip())
        if section == "buying_stage":
            return bool(self.buying_stage)
        return False

    def _missing_sections(self):
        return [name for name in COMPLETENESS_SECTIONS if not self._section_done(name)]

    # ------------------------------------------------------------------
    # CRUD: the checklist follows the card
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        cards = super(
            CrmLeadFactCard, self.with_context(crm_evidence_sync_later=True)
        ).create(vals_list)
        cards = cards.with_env(self.env)
        cards.lead_id._sync_evidence_ticks()
        return cards

    def write(self, vals):
        res = super(
            CrmLeadFactCard, self.with_context(crm_evidence_sync_later=True)
        ).write(vals)
        self.lead_id._sync_evidence_ticks()
        return res

    def unlink(self):
        leads = self.lead_id
        res = super().unlink()
        leads.exists()._sync_evidence_ticks()
        return res
