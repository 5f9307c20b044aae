"""Hand-off of won opportunities to sales orders and OCA contracts.

Every attempt runs in a savepoint: it either creates all its documents or none,
and is logged whatever its outcome. One order and at most one contract per
opportunity are enforced by unique constraints on the documents themselves.
"""

import logging

import psycopg2
from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, mute_logger
from odoo.tools.translate import LazyTranslate

from ..jobs import run_batches

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

HANDOFF_STATUSES = [
    ("-1", "-1 Transmission failed"),
    ("0", "0 Not transmitted"),
    ("1", "1 Transmitted"),
    ("2", "2 Contract number generated"),
    ("3", "3 Order cancelled"),
]
# Statuses from which a (re)transmission may start.
HANDOFF_RETRYABLE = ("0", "-1")

# contract.line recurrences, as relativedelta steps of one interval.
RECURRENCE_STEP = {
    "daily": relativedelta(days=1),
    "weekly": relativedelta(weeks=1),
    "monthly": relativedelta(months=1),
    "quarterly": relativedelta(months=3),
    "semesterly": relativedelta(months=6),
    "yearly": relativedelta(years=1),
}


# What a hand-off can say, by message code. A deal is read by people of several
# languages (the job writes for nobody in particular): the deal and its attempts
# store the code and its parameters, and every reader sees the message rendered
# in their own language. The code ``success`` is the ERP feedback's own word and
# reads the same in every language.
HANDOFF_SUCCESS = "success"
HANDOFF_MESSAGES = {
    "missing_customer": _lt(
        "Missing customer: set the customer (its registered business name) on the "
        "opportunity, then retry."
    ),
    "duplicate_customer": _lt(
        "Unique constraint violated: another customer is registered as “%(name)s” "
        "(ID %(other)s). Merge the two customers, or rename one “name + "
        "department”, then retry."
    ),
    "no_salesperson": _lt(
        "Salesperson cannot be mapped: the opportunity has no salesperson. Assign "
        "one, then retry."
    ),
    "archived_salesperson": _lt(
        "Salesperson cannot be mapped: the account of %(user)s is archived. "
        "Reactivate it or assign another salesperson, then retry."
    ),
    "salesperson_not_in_team": _lt(
        "Salesperson cannot be mapped: %(user)s is not set up as a salesperson "
        "(member of a sales team). Add them to a team in CRM > Configuration > "
        "Sales Teams, then retry."
    ),
    "missing_lines": _lt(
        "Missing lines: the opportunity has no product lines. Add the products "
        "sold, then retry."
    ),
    "product_not_saleable": _lt(
        "Product not saleable: %(products)s cannot be sold (archived, or “Can be "
        "Sold” unticked). Fix the product or the line, then retry."
    ),
    # The error of another module is kept as that module wrote it.
    "module_refused": _lt("The order or contract module refused the deal: %(error)s"),
    "module_error": _lt(
        "Unexpected error from the order or contract module: %(error)s"
    ),
    "order_cancelled": _lt("Order %(order)s was cancelled."),
    # The external order system (crm_lead_handoff_endpoint.py).
    "remote_timeout": _lt(
        "The order system did not answer within %(seconds)s seconds."
    ),
    "remote_connection": _lt(
        "The connection to the order system failed or was dropped."
    ),
    "remote_server_error": _lt("The order system failed (HTTP %(code)s)."),
    # %(failure)s is itself a message: {"code": ..., "params": {...}}.
    "remote_gave_up": _lt(
        "%(failure)s Tried %(count)s times; nothing was created. Retry later, or "
        "ask the order system's administrator."
    ),
    "remote_invalid_answer": _lt(
        "The order system sent an answer that is not a valid JSON document (HTTP "
        "%(code)s); nothing was created. Retry later, or ask the order system's "
        "administrator."
    ),
    "remote_duplicate_customer": _lt(
        "Unique constraint violated: the order system already has a customer named "
        "“%(name)s”. Merge the customers there, or rename this one “name + "
        "department”, then retry."
    ),
    "remote_unmapped_salesperson": _lt(
        "Salesperson cannot be mapped: the order system has no salesperson account "
        "for %(login)s. Create the account or set the person up as a salesperson "
        "there, then retry."
    ),
    # The order system's own message is kept as it sent it.
    "remote_refused": _lt(
        "The order system refused the deal (HTTP %(code)s): %(message)s"
    ),
}


def render_handoff_message(env, code, params=None, text=""):
    """The message of ``code`` in the language of ``env``.

    Without a template for the code (a message recorded before the codes, or
    one another module records), the recorded ``text`` is shown as it is.
    """
    if code == HANDOFF_SUCCESS:
        return HANDOFF_SUCCESS
    template = HANDOFF_MESSAGES.get(code)
    if template is None:
        return text or ""
    values = {
        key: (
            render_handoff_message(env, value.get("code"), value.get("params"))
            if isinstance(value, dict)
            else value
        )
        for key, value in (params or {}).items()
    }
    # The template is translated first, then filled: the parameters (names,
    # numbers, texts of other systems) are not translated.
    try:
        return env._(template) % values
    except (KeyError, TypeError, ValueError):
        _logger.warning("Hand-off message %r cannot be rendered with %r", code, params)
        return text or code


def search_handoff_message(env, operator, value, code_field, text_field):
    """Domain of the messages that contain ``value`` in the reader's language.

    A message matches by its template in the reader's language (“缺少产品明细”
    finds the deals whose job wrote English) or by its recorded text (which
    holds the parameters: names, numbers).
    """
    positive = {"not ilike": "ilike", "not like": "like"}.get(operator, operator)
    if positive not in ("ilike", "like") or not isinstance(value, str):
        return [(text_field, operator, value)]

    def matches(message):
        if positive == "like":
            return value in message
        return value.lower() in message.lower()

    codes = [
        code for code, template in HANDOFF_MESSAGES.items() if matches(env._(template))
    ]
    if matches(HANDOFF_SUCCESS):
        codes.append(HANDOFF_SUCCESS)
    domain = ["|", (code_field, "in", codes), (text_field, positive, value)]
    return domain if positive == operator else ["!", *domain]


class HandoffError(Exception):
    """A deal that cannot be handed off; its message code says what to fix."""

    def __init__(self, code, /, **params):  # params may hold a ``code`` (HTTP)
        super().__init__(code, params)
        self.code = code
        self.params = params


# The hand-off is its own concern, kept apart from the gate in crm_lead.py.
class CrmLead(models.Model):
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    stage_is_won = fields.Boolean(related="stage_id.is_won", string="In Won Stage")
    handoff_status = fields.Selection(
        HANDOFF_STATUSES,
        string="Integration Status",
        default="0",
        required=True,
        copy=False,
        readonly=True,
        tracking=True,
        index=True,
        help="Where the won deal stands in the order and contract documents.",
    )
    handoff_message_code = fields.Char(
        string="Transmission Message Code",
        copy=False,
        readonly=True,
        help="What the last hand-off said, as a code (“success”, “missing_lines”…).",
    )
    handoff_message_params = fields.Json(
        string="Transmission Message Parameters", copy=False, readonly=True
    )
    handoff_message_text = fields.Char(
        string="Transmission Message (as Recorded)",
        copy=False,
        readonly=True,
        help="The message in the language of whoever ran the hand-off, for the record.",
    )
    handoff_message = fields.Char(
        string="Transmission Message",
        compute="_compute_handoff_message",
        search="_search_handoff_message",
        help="What the last hand-off said, in your language.",
    )
    handoff_queued = fields.Boolean(
        string="Hand-off Queued",
        copy=False,
        readonly=True,
        help="Won and waiting for the scheduled hand-off job.",
    )
    handoff_last_attempt = fields.Datetime(
        string="Last Hand-off Attempt", copy=False, readonly=True
    )
    handoff_order_ids = fields.One2many(
        "sale.order", "sales_funnel_handoff_lead_id", string="Hand-off Orders"
    )
    handoff_contract_ids = fields.One2many(
        "contract.contract",
        "sales_funnel_handoff_lead_id",
        string="Hand-off Contracts",
    )
    # Not stored: the documents point at the deal (unique), nothing to keep in
    # step, and no column to fill on a million opportunities at installation.
    handoff_order_id = fields.Many2one(
        "sale.order", string="Sales Order", compute="_compute_handoff_documents"
    )
    handoff_contract_id = fields.Many2one(
        "contract.contract", string="Contract", compute="_compute_handoff_documents"
    )
    handoff_contract_number = fields.Char(
        string="Contract Number", copy=False, readonly=True
    )
    handoff_attempt_ids = fields.One2many(
        "crm.lead.handoff.attempt", "lead_id", string="Hand-off Attempts"
    )

    @api.depends(
        "handoff_message_code", "handoff_message_params", "handoff_message_text"
    )
    @api.depends_context("lang")
    def _compute_handoff_message(self):
        for lead in self:
            lead.handoff_message = render_handoff_message(
                self.env,
                lead.handoff_message_code,
                lead.handoff_message_params,
                lead.handoff_message_text,
            )

    def _search_handoff_message(self, operator, value):
        return search_handoff_message(
            self.env, operator, value, "handoff_message_code", "handoff_message_text"
        )

    def _prepare_handoff_message_vals(self, code, params=None):
        """Values recording the message ``code``; the text in the current language."""
        params = params or {}
        return {
            "handoff_message_code": code,
            "handoff_message_params": params,
            "handoff_message_text": render_handoff_message(self.env, code, params),
        }

    def _company_lang(self):
        """The language of what the hand-off writes for several readers at once.

        Chatter posts (and the job's record) are read by the salesperson, the
        secretary and the managers: they are written in the company's language,
        not in the language of whoever happened to trigger them.
        """
        return (
            self.company_id.partner_id.lang
            or self.env.company.partner_id.lang
            or self.user_id.lang
            or self.env.lang
        )

    @api.depends("handoff_order_ids", "handoff_contract_ids")
    def _compute_handoff_documents(self):
        # Who may see the deal sees which documents it became (like a Many2one's
        # name), even without access to contracts.
        for lead, lead_sudo in zip(self, self.sudo(), strict=True):
            lead.handoff_order_id = lead_sudo.handoff_order_ids[:1].id
            lead.handoff_contract_id = lead_sudo.handoff_contract_ids[:1].id

    # ------------------------------------------------------------------
    # Step 6 of create and write (crm_lead.py): the hand-off queue
    # ------------------------------------------------------------------

    def _is_won(self):
        return self.active and self.stage_id.is_won

    def _update_handoff_queue(self, before=None):
        """Queue the hand-off of the deals just won, whatever the path (kanban
        drop, Won button, import, creation in the won stage); warn on the deals
        reopened after their hand-off. ``before``: the opportunities before a
        write ({lead id: StageSnapshot}), None on creation."""

        def was_won(lead):
            old = before and before[lead.id]
            return bool(old and old.active and old.stage.is_won)

        won = self.filtered(lambda lead: lead._is_won())
        won.filtered(lambda lead: not was_won(lead))._queue_handoff()
        reopened = (self - won).filtered(was_won)
        reopened.filtered("handoff_order_id")._warn_reopened_after_handoff()

    def _queue_handoff(self):
        pending = self.filtered(
            lambda lead: (
                lead.type == "opportunity"
                and lead.handoff_status in HANDOFF_RETRYABLE
                and not lead.handoff_queued
            )
        )
        if pending:
            pending.write({"handoff_queued": True})
            self.env.ref("sales_funnel.ir_cron_sales_funnel_handoff").sudo()._trigger()

    def _warn_reopened_after_handoff(self):
        for lead in self:
            post = lead.with_context(lang=lead._company_lang())
            post.message_post(
                body=post.env._(
                    "This deal was reopened after its hand-off. Its sales order "
                    "%(order)s and contract %(contract)s are kept: cancel them in "
                    "Sales if the deal is really off.",
                    order=lead.handoff_order_id.name,
                    contract=lead.handoff_contract_number or "-",
                ),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _check_handoff_rights(self):
        if self.env.su or self.env.user.has_group("sales_funnel.group_sales_secretary"):
            return
        raise AccessError(
            self.env._(
                "Only the sales secretary or a sales manager can transmit or retry "
                "the hand-off of won deals."
            )
        )

    def action_handoff(self):
        """Transmit now / Retry (form button and bulk action of the hand-off list)."""
        self._check_handoff_rights()
        todo = self.filtered(
            lambda lead: lead._is_won() and lead.handoff_status in HANDOFF_RETRYABLE
        )
        if not todo:
            raise UserError(
                self.env._(
                    "Nothing to transmit: only won opportunities that were not "
                    "transmitted yet, or whose transmission failed, can be sent."
                )
            )
        outcomes = [lead._run_handoff() for lead in todo]
        failed = todo.filtered(lambda lead: lead.handoff_status == "-1")
        busy = outcomes.count(False)
        done = len(todo) - len(failed) - busy
        message = self.env._(
            "%(done)s of %(total)s deal(s) handed off.",
            done=done,
            total=len(todo),
        )
        if failed:
            message += " " + self.env._(
                "%(count)s failed: %(reason)s",
                count=len(failed),
                reason=failed[0].handoff_message,
            )
        if busy:
            message += " " + self.env._(
                "%(count)s deal(s) are being handed off by someone else right now.",
                count=busy,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Hand-off"),
                "message": message,
                "type": "danger" if failed else ("warning" if busy else "success"),
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_view_handoff_order(self):
        self.ensure_one()
        return self.handoff_order_id._get_formview_action()

    def action_view_handoff_contract(self):
        self.ensure_one()
        return self.handoff_contract_id._get_formview_action()

    @api.model
    def _cron_handoff(self, limit=100):
        """Hand off the queued deals, ``limit`` a batch (``jobs.run_batches``);
        a deal another attempt holds stays queued for the next run."""
        skipped = set()

        def step():
            queued = [("handoff_queued", "=", True), ("id", "not in", list(skipped))]
            done = 0
            for lead in self.search(queued, limit=limit, order="id"):
                # The job has no reader: it records its text in the company's
                # language; every reader sees the message in their own.
                if lead.with_context(lang=lead._company_lang())._run_handoff():
                    done += 1
                else:
                    skipped.add(lead.id)
            return done, self.search_count(queued)

        return run_batches(self.env, step)

    # ------------------------------------------------------------------
    # The attempt
    # ------------------------------------------------------------------

    def _lock_for_handoff(self):
        """Lock the opportunity for this attempt; False if someone else has it."""
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM crm_lead WHERE id = %s FOR UPDATE NOWAIT",
                        self.id,
                    )
                )
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.SerializationFailure):
            return False
        return True

    def _run_handoff(self):
        """One logged attempt. Returns False when another attempt holds the deal."""
        self.ensure_one()
        if not self._lock_for_handoff():
            return False
        self.invalidate_recordset()
        if not (self._is_won() and self.handoff_status in HANDOFF_RETRYABLE):
            # Done meanwhile by another attempt, or reopened: nothing to send.
            if self.handoff_queued:
                self.handoff_queued = False
            return True
        try:
            with self.env.cr.savepoint():
                self._transmit_handoff()
                status = self._integration_status_from_documents()
                code, params = HANDOFF_SUCCESS, {}
        except HandoffError as error:
            status, code, params = "-1", error.code, error.params
        except (UserError, ValidationError, AccessError) as error:
            status, code, params = "-1", "module_refused", {"error": str(error.args[0])}
        except psycopg2.OperationalError:
            raise  # concurrency: let Odoo retry the whole request
        except Exception as error:  # noqa: BLE001 - any failure must be recorded
            _logger.exception("Hand-off of opportunity %s failed", self.id)
            status, code, params = "-1", "module_error", {"error": str(error)}
        self._record_handoff_attempt(status, code, params)
        return True

    def _record_handoff_attempt(self, status, code, params):
        """Record the outcome on the deal, as an attempt in its log, and in the
        sales secretary's activity (crm_lead_handoff_activity.py)."""
        now = fields.Datetime.now()
        message = self._prepare_handoff_message_vals(code, params)
        self.write(
            dict(
                message,
                handoff_status=status,
                handoff_queued=False,
                handoff_last_attempt=now,
            )
        )
        self.env["crm.lead.handoff.attempt"]._create_record(
            self._prepare_handoff_attempt_vals(status, message, now)
        )
        self._update_handoff_activity(status)

    def _prepare_handoff_attempt_vals(self, status, message, date):
        """Values of the logged attempt (``message``: its message values)."""
        self.ensure_one()
        return {
            "lead_id": self.id,
            "date": date,
            "user_id": self.env.uid,
            "status": status,
            "message_code": message["handoff_message_code"],
            "message_params": message["handoff_message_params"],
            "message_text": message["handoff_message_text"],
            "order_id": self.handoff_order_id.id,
            "contract_id": self.handoff_contract_id.id,
        }

    def _integration_status_from_documents(self):
        """Integration status as the documents say it."""
        order = self.handoff_order_id
        if not order:
            return "0"
        if order.state == "cancel":
            return "3"
        if order.state == "sale" and self.handoff_contract_number:
            return "2"
        return "1"

    def _transmit_handoff(self):
        self._check_handoff_data()
        # The integration acts for the company: the secretary or the job creates
        # documents (orders, contracts) that their own groups may not create.
        lead = self.sudo().with_company(self.company_id)
        order = lead.env["sale.order"].create(lead._prepare_sale_order_vals())
        if lead.company_id.sales_funnel_handoff_confirm_order:
            order.action_confirm()  # _action_confirm creates the contract
        endpoint = lead.company_id.sales_funnel_order_endpoint_url
        if endpoint:
            answer = lead.env["crm.lead.handoff.endpoint"]._post_deal(lead, order)
            if answer.get("contract_number"):
                lead.handoff_contract_id.code = answer["contract_number"]
                lead.handoff_contract_number = answer["contract_number"]
            elif order.state == "sale":
                # The order system has not numbered the contract yet.
                lead.handoff_contract_number = False

    def _check_handoff_data(self):
        """Refuse what the order system would refuse, with what to fix."""
        if not self.partner_id:
            raise HandoffError("missing_customer")
        customer = self.partner_id.commercial_partner_id
        # Registered names are compared as the funnel compares them
        # (registered_name.py): a twin entered before the rule, or by a data file.
        twin = (
            self.env["res.partner"]
            ._registered_name_twins(customer, company=self.company_id)
            .get(customer.id)
        )
        if twin:
            raise HandoffError("duplicate_customer", name=customer.name, other=twin)
        user = self.with_context(active_test=False).user_id.sudo()
        if not user:
            raise HandoffError("no_salesperson")
        if not user.active:
            raise HandoffError("archived_salesperson", user=user.name)
        if (
            not self.env["crm.team.member"]
            .sudo()
            .search_count(
                [("user_id", "=", user.id), ("crm_team_id.active", "=", True)], limit=1
            )
        ):
            raise HandoffError("salesperson_not_in_team", user=user.name)
        if not self.line_ids:
            raise HandoffError("missing_lines")
        products = self.line_ids.product_id.sudo().with_context(active_test=False)
        unsaleable = products.filtered(
            lambda product: not (product.sale_ok and product.active)
        )
        if unsaleable:
            raise HandoffError(
                "product_not_saleable",
                products=", ".join(unsaleable.mapped("display_name")),
            )

    # ------------------------------------------------------------------
    # Document values (hooks)
    # ------------------------------------------------------------------

    def _deal_reference(self):
        """The deal's reference, also the idempotency key of the order system."""
        return f"OPP{self.id:06d}"

    def _prepare_sale_order_vals(self):
        self.ensure_one()
        return {
            "partner_id": self.partner_id.id,
            "user_id": self.user_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "opportunity_id": self.id,
            "sales_funnel_handoff_lead_id": self.id,
            "origin": f"{self._deal_reference()} {self.name}",
            "campaign_id": self.campaign_id.id,
            "medium_id": self.medium_id.id,
            "source_id": self.source_id.id,
            "tag_ids": [Command.set(self.tag_ids.ids)],
            "order_line": [
                Command.create(line._prepare_sale_order_line_vals())
                for line in self.line_ids
            ],
        }

    def _prepare_contract_vals(self, order):
        self.ensure_one()
        lines = self.line_ids.filtered(lambda line: line.line_type == "recurring")
        return {
            "name": f"{self._deal_reference()} {self.name}",
            "code": self.env["ir.sequence"].next_by_code("sales_funnel.contract"),
            "partner_id": self.partner_id.id,
            "user_id": self.user_id.id,
            "company_id": self.company_id.id,
            "contract_type": "sale",
            "line_recurrence": True,
            "sales_funnel_handoff_lead_id": self.id,
            "sales_funnel_sale_order_id": order.id,
            "contract_line_ids": [
                Command.create(line._prepare_contract_line_vals(order))
                for line in lines
            ],
        }

    def _create_handoff_contract(self, order):
        """Contract of the recurring lines, numbered; none needed without them."""
        self.ensure_one()
        if self.handoff_contract_id:
            self.handoff_contract_number = self.handoff_contract_id.code
            return
        if not self.line_ids.filtered(lambda line: line.line_type == "recurring"):
            # No contract needed: the order number is the deal's number.
            self.handoff_contract_number = order.name
            return
        contract = self.env["contract.contract"].create(
            self._prepare_contract_vals(order)
        )
        self.handoff_contract_number = contract.code
        post = self.with_context(lang=self._company_lang())
        post.message_post(
            body=Markup("%s")
            % post.env._(
                "Contract %(contract)s created for the recurring lines of order "
                "%(order)s.",
                contract=contract.code,
                order=order.name,
            ),
            subtype_xmlid="mail.mt_note",
        )


class CrmLeadLine(models.Model):
    _inherit = "crm.lead.line"

    def _prepare_sale_order_line_vals(self):
        self.ensure_one()
        return {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "product_uom_qty": self.quantity,
            "price_unit": self.price_unit,
            "discount": self.discount,
        }

    def _prepare_contract_line_vals(self, order):
        """The order bills the first period; the contract recurs after it."""
        self.ensure_one()
        step = RECURRENCE_STEP[self.recurring_rule_type] * self.recurring_interval
        start = fields.Date.to_date(order.date_order) + step
        return {
            "sequence": self.sequence,
            "product_id": self.product_id.id,
            "name": self.name,
            "quantity": self.quantity,
            "uom_id": self.product_id.uom_id.id,
            "price_unit": self.price_unit,
            "discount": self.discount,
            "recurring_rule_type": self.recurring_rule_type,
            "recurring_interval": self.recurring_interval,
            "date_start": start,
            "recurring_next_date": start,
        }
