import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

import requests

from odoo.exceptions import AccessError
from odoo.tests import common, tagged

from .common import HandoffCase

TOKEN = "s3cret-token-4711"


class OrderSystemHandler(BaseHTTPRequestHandler):
    """A stand-in ERP on 127.0.0.1 that answers as its next scripted mode says."""

    def do_POST(self):
        server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        server.received.append(
            {"headers": dict(self.headers), "body": json.loads(body)}
        )
        mode = server.modes.pop(0) if len(server.modes) > 1 else server.modes[0]
        if mode == "drop":
            self.close_connection = True
            self.connection.close()
            return
        if mode == "slow":
            time.sleep(server.slow_seconds)
        answers = {
            "ok": (
                200,
                {"status": "ok", "order_ref": "ERP-1", "contract_number": "ERP-HT-9"},
            ),
            "ok_no_contract": (200, {"status": "ok", "order_ref": "ERP-1"}),
            "duplicate": (409, {"status": "error", "code": "duplicate_customer"}),
            "unmapped": (422, {"status": "error", "code": "unmapped_salesperson"}),
            "500": (500, {"status": "error", "message": "database down"}),
            "slow": (200, {"status": "ok"}),
        }
        if mode == "malformed":
            status, payload = 200, b"<html>gateway</html>"
        else:
            status, answer = answers[mode]
            payload = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout case)

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestHandoffRemote(HandoffCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), OrderSystemHandler)
        cls.server.daemon_threads = True
        cls.server.modes = ["ok"]
        cls.server.received = []
        cls.server.slow_seconds = 1.5
        thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        port = cls.server.server_address[1]
        cls.company.write(
            {
                "sales_funnel_order_endpoint_url": f"http://127.0.0.1:{port}/orders",
                "sales_funnel_order_endpoint_token": TOKEN,
                "sales_funnel_order_endpoint_timeout": 1,
            }
        )

    def setUp(self):
        super().setUp()
        self.server.received.clear()
        backoff = patch.object(
            type(self.env["crm.lead.handoff.endpoint"]), "_backoff", 0.05
        )
        backoff.start()
        self.addCleanup(backoff.stop)
        self._win(self.deal)

    def _serve(self, *modes):
        self.server.modes = list(modes)

    def _transmit(self):
        with self.assertLogs(level="DEBUG") as logs:  # every logger
            self.deal.with_user(self.secretary).action_handoff()
        self.assertNotIn(TOKEN, "\n".join(logs.output))
        self.assertNotIn(TOKEN, self.deal.handoff_message)

    def _assert_failed(self, expected, requests):
        self.assertEqual(self.deal.handoff_status, "-1")
        self.assertIn(expected, self.deal.handoff_message)
        self.assertFalse(self._orders(self.deal), "no orphan order")
        self.assertFalse(self._contracts(self.deal), "no orphan contract")
        self.assertEqual(len(self.server.received), requests)
        self._serve("ok")
        self._transmit()
        self.assertEqual(self.deal.handoff_status, "2")
        self.assertEqual(self.deal.handoff_contract_number, "ERP-HT-9")
        self.assertEqual(len(self._orders(self.deal)), 1)
        keys = {r["headers"]["Idempotency-Key"] for r in self.server.received}
        self.assertEqual(len(keys), 1, "every try carries the same idempotency key")

    def test_success_with_contract_number(self):
        self._serve("ok")
        self._transmit()
        self.assertEqual(self.deal.handoff_status, "2")
        self.assertEqual(self.deal.handoff_contract_number, "ERP-HT-9")
        self.assertEqual(self.deal.handoff_contract_id.code, "ERP-HT-9")
        (request,) = self.server.received
        self.assertEqual(request["headers"]["Authorization"], f"Bearer {TOKEN}")
        document = request["body"]
        self.assertEqual(document["customer"]["registered_name"], self.partner.name)
        self.assertEqual(document["salesperson"]["login"], self.salesman.login)
        self.assertEqual(document["currency"], self.company.currency_id.name)
        self.assertEqual(document["amount_untaxed"], 95000.0)
        self.assertEqual(len(document["lines"]), 3)
        self.assertEqual(document["reference"], self.deal._deal_reference())
        self.assertTrue(
            request["headers"]["Idempotency-Key"].endswith(document["reference"])
        )

    def test_accepted_without_contract_number_is_transmitted(self):
        self._serve("ok_no_contract")
        self._transmit()
        self.assertEqual(self.deal.handoff_status, "1")
        self.assertEqual(self.deal.handoff_message, "success")
        self.assertEqual(len(self._orders(self.deal)), 1)

    def test_duplicate_customer_in_the_order_system(self):
        self._serve("duplicate")
        self._transmit()
        self._assert_failed("Unique constraint violated", 1)

    def test_unmapped_salesperson_in_the_order_system(self):
        self._serve("unmapped")
        self._transmit()
        self._assert_failed("Salesperson cannot be mapped", 1)
        self.assertIn(self.salesman.login, self.deal.handoff_attempt_ids[1].message)

    def test_server_error_is_retried_then_recorded(self):
        self._serve("500")
        self._transmit()
        self._assert_failed("HTTP 500", 3)

    def test_server_error_read_in_chinese(self):
        self._serve("500")
        self._transmit()  # by the English secretary
        self.env["res.lang"]._activate_lang("zh_CN")
        message = self.deal.with_context(lang="zh_CN").handoff_message
        self.assertIn("订单系统出错（HTTP 500）。", message)
        self.assertIn("已尝试 3 次", message)
        self.assertIn("HTTP 500", self.deal.with_context(lang="en_US").handoff_message)

    def test_server_error_then_recovery_within_the_retries(self):
        self._serve("500", "ok")
        self._transmit()
        self.assertEqual(self.deal.handoff_status, "2")
        self.assertEqual(len(self.server.received), 2)

    def test_timeout(self):
        self._serve("slow")
        # Odoo's test harness stretches short timeouts to 10 s: use plain requests.
        with patch.object(requests.Session, "send", common._super_send):
            self._transmit()
        self._assert_failed("did not answer within 1 seconds", 3)

    def test_malformed_answer(self):
        self._serve("malformed")
        self._transmit()
        self._assert_failed("not a valid JSON document", 1)

    def test_dropped_connection(self):
        self._serve("drop")
        self._transmit()
        self._assert_failed("failed or was dropped", 3)

    def test_token_is_for_administrators_only(self):
        for user in (self.salesman, self.secretary, self.manager):
            with self.assertRaises(AccessError):
                self.company.with_user(user).sales_funnel_order_endpoint_token  # noqa: B018
        self.assertEqual(self.company.sales_funnel_order_endpoint_token, TOKEN)
