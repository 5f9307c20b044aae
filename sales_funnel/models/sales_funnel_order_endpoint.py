"""Client of an external order system (another ERP) for the won-deal hand-off."""

import logging
import time

import requests

from odoo import api, models

from .crm_lead_handoff import HandoffError

_logger = logging.getLogger(__name__)


class SalesFunnelOrderEndpoint(models.AbstractModel):
    _name = "sales_funnel.order.endpoint"
    _description = "External Order System"

    _attempts = 3
    _backoff = 0.5  # seconds before the 2nd attempt, doubled for each next one

    @api.model
    def _deal_document(self, lead, order):
        """The JSON document of a won deal, as the order system receives it."""
        reference = lead._handoff_reference()
        customer = lead.partner_id.commercial_partner_id
        return {
            "reference": reference,
            "idempotency_key": self._idempotency_key(lead),
            "name": lead.name,
            "customer": {
                "registered_name": customer.name,
                "vat": customer.vat or None,
                "ref": customer.ref or None,
            },
            "salesperson": {"login": lead.user_id.login, "name": lead.user_id.name},
            "team": lead.team_id.name or None,
            "currency": order.currency_id.name,
            "order": order.name,
            "amount_untaxed": order.amount_untaxed,
            "amount_total": order.amount_total,
            "lines": [
                {
                    "product": line.product_id.default_code or line.product_id.name,
                    "description": line.name,
                    "quantity": line.quantity,
                    "price_unit": line.price_unit,
                    "discount": line.discount,
                    "subtotal": line.price_subtotal,
                    "type": line.line_type,
                    "recurrence": (
                        line.recurring_rule_type
                        if line.line_type == "recurring"
                        else None
                    ),
                    "interval": (
                        line.recurring_interval
                        if line.line_type == "recurring"
                        else None
                    ),
                }
                for line in lead.line_ids
            ],
        }

    @api.model
    def _idempotency_key(self, lead):
        uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return f"{uuid}/{lead._handoff_reference()}"

    @api.model
    def _post_deal(self, lead, order):
        """POST the deal; return the answer, or raise HandoffError."""
        company = lead.company_id.sudo()
        token = company.sales_funnel_order_endpoint_token or ""
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": self._idempotency_key(lead),
        }
        document = self._deal_document(lead, order)
        timeout = company.sales_funnel_order_endpoint_timeout or 10
        failure = ""
        for attempt in range(self._attempts):
            if attempt:
                time.sleep(self._backoff * 2 ** (attempt - 1))
            _logger.info(
                "Hand-off: posting %s to the order system (try %s)",
                document["reference"],
                attempt + 1,
            )
            try:
                response = requests.post(
                    company.sales_funnel_order_endpoint_url,
                    json=document,
                    headers=headers,
                    timeout=timeout,
                )
            except requests.Timeout:
                failure = self.env._(
                    "The order system did not answer within %(seconds)s seconds.",
                    seconds=timeout,
                )
                continue
            except requests.RequestException:
                failure = self.env._(
                    "The connection to the order system failed or was dropped."
                )
                continue
            if response.status_code >= 500:
                failure = self.env._(
                    "The order system failed (HTTP %(code)s).",
                    code=response.status_code,
                )
                continue
            return self._read_answer(lead, response)
        raise HandoffError(
            self.env._(
                "%(failure)s Tried %(count)s times; nothing was created. Retry "
                "later, or ask the order system's administrator.",
                failure=failure,
                count=self._attempts,
            )
        )

    @api.model
    def _read_answer(self, lead, response):
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise HandoffError(
                self.env._(
                    "The order system sent an answer that is not a valid JSON "
                    "document (HTTP %(code)s); nothing was created. Retry later, or "
                    "ask the order system's administrator.",
                    code=response.status_code,
                )
            )
        if response.ok and answer.get("status") == "ok":
            return answer
        code = answer.get("code")
        if code == "duplicate_customer":
            raise HandoffError(
                self.env._(
                    "Unique constraint violated: the order system already has a "
                    "customer named “%(name)s”. Merge the customers there, or rename "
                    "this one “name + department”, then retry.",
                    name=lead.partner_id.commercial_partner_id.name,
                )
            )
        if code == "unmapped_salesperson":
            raise HandoffError(
                self.env._(
                    "Salesperson cannot be mapped: the order system has no "
                    "salesperson account for %(login)s. Create the account or set "
                    "the person up as a salesperson there, then retry.",
                    login=lead.user_id.login,
                )
            )
        raise HandoffError(
            self.env._(
                "The order system refused the deal (HTTP %(code)s): %(message)s",
                code=response.status_code,
                message=answer.get("message") or code or "-",
            )
        )
