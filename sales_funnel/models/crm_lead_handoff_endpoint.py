"""Client of an external order system (another ERP) for the won-deal hand-off."""

import logging
import time

import requests

from odoo import api, models

from .crm_lead_handoff import HandoffError

_logger = logging.getLogger(__name__)


class CrmLeadHandoffEndpoint(models.AbstractModel):
    _name = "crm.lead.handoff.endpoint"
    _description = "External Order System"

    _attempts = 3
    _backoff = 0.5  # seconds before the 2nd attempt, doubled for each next one

    @api.model
    def _deal_document(self, lead, order):
        """The JSON document of a won deal, as the order system receives it."""
        reference = lead._deal_reference()
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
        return f"{uuid}/{lead._deal_reference()}"

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
        failure = {}
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
                failure = {"code": "remote_timeout", "params": {"seconds": timeout}}
                continue
            except requests.RequestException:
                failure = {"code": "remote_connection"}
                continue
            if response.status_code >= 500:
                failure = {
                    "code": "remote_server_error",
                    "params": {"code": response.status_code},
                }
                continue
            return self._read_answer(lead, response)
        raise HandoffError("remote_gave_up", failure=failure, count=self._attempts)

    @api.model
    def _read_answer(self, lead, response):
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise HandoffError("remote_invalid_answer", code=response.status_code)
        if response.ok and answer.get("status") == "ok":
            return answer
        code = answer.get("code")
        if code == "duplicate_customer":
            raise HandoffError(
                "remote_duplicate_customer",
                name=lead.partner_id.commercial_partner_id.name,
            )
        if code == "unmapped_salesperson":
            raise HandoffError("remote_unmapped_salesperson", login=lead.user_id.login)
        # The order system's own words are kept as it sent them.
        raise HandoffError(
            "remote_refused",
            code=response.status_code,
            message=str(answer.get("message") or code or "-"),
        )
