"""Locust load test of the sales funnel, over Odoo's JSON-RPC as the web client.

Run by ``loadtest.py`` (``locust -f bench/replica/locustfile.py --headless
--host http://127.0.0.1:8285 -u 12 -r 4 -t 60s``). Environment:
``LOADTEST_DB`` (the database), ``LOADTEST_SALESPEOPLE`` (how many of the
generator's ``bench_sp_NN`` to log in as, default 10).

- Salespeople open their pipeline (kanban groups, progress bar, cards), tick
  exit criteria, move deals forward (won at the end, with an order line) and
  back, log customer interview reports, and lose deals with a loss report.
- A sales manager opens the dashboard, the Funnel Forecast pivot and Stage
  Analysis.
- A sales secretary transmits won deals (orders and contracts).

A business refusal (the stage gate, a missing document: UserError or
ValidationError) is an answer, counted as ``REFUSED <name>``; any other error
(a deadlock or serialization failure that surfaced, a server error) is a
failure.
"""

import itertools
import os
import random
import time

from locust import HttpUser, between, events, task

DB = os.environ.get("LOADTEST_DB", "")
SALESPEOPLE = int(os.environ.get("LOADTEST_SALESPEOPLE", "10"))
REFUSALS = (
    "odoo.exceptions.UserError",
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.RedirectWarning",
)
_logins = itertools.cycle(f"bench_sp_{n:02d}" for n in range(1, SALESPEOPLE + 1))
_ids = itertools.count(1)


class OdooUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    login = None

    def on_start(self):
        login = self.login or next(_logins)
        result = self.rpc(
            "/web/session/authenticate",
            {"db": DB, "login": login, "password": login},
            "login",
        )
        if not result:
            raise RuntimeError(f"cannot log in as {login}")
        self.uid = result["uid"]
        self.odoo_context = {"lang": "en_US", "tz": "Asia/Shanghai", "uid": self.uid}
        self.stages = self.call(
            "crm.stage",
            "search_read",
            [[("team_id", "=", False)]],
            {"fields": ["id", "is_won", "sequence"], "order": "sequence, id"},
            name="stages",
        )

    # -- JSON-RPC ---------------------------------------------------------

    def rpc(self, path, params, name):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(_ids),
            "params": params,
        }
        with self.client.post(path, json=payload, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"HTTP {r.status_code}")
                return None
            data = r.json()
            error = data.get("error")
            if not error:
                return data.get("result")
            kind = (error.get("data") or {}).get("name", "")
            message = (error.get("data") or {}).get("message", "")[:200]
            if kind in REFUSALS:
                r.success()
                events.request.fire(
                    request_type="REFUSED",
                    name=name,
                    response_time=r.elapsed.total_seconds() * 1000,
                    response_length=0,
                    exception=None,
                    context={},
                )
                return None
            r.failure(f"{kind}: {message}")
            return None

    def call(self, model, method, args=(), kwargs=None, name=None):
        kwargs = dict(kwargs or {})
        kwargs.setdefault("context", self.odoo_context)
        return self.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            name or f"{model}.{method}",
        )


class Salesperson(OdooUser):
    def on_start(self):
        super().on_start()
        self.deals = []
        self.product = (
            self.call(
                "product.product",
                "search",
                [[("default_code", "=", "LOADTEST")]],
                {"limit": 1},
                name="product",
            )
            or [False]
        )[0]
        reasons = self.call(
            "crm.lost.reason", "search", [[]], {"limit": 1}, name="lost reason"
        )
        self.lost_reason = reasons[0] if reasons else False
        self.open_pipeline()

    def _domain(self):
        return [("type", "=", "opportunity"), ("user_id", "=", self.uid)]

    @task(5)
    def open_pipeline(self):
        domain = self._domain()
        self.call(
            "crm.lead",
            "web_read_group",
            [domain, ["expected_revenue:sum"], ["stage_id"]],
            {"lazy": True},
            name="pipeline: kanban columns",
        )
        self.call(
            "crm.lead",
            "read_progress_bar",
            [],
            {
                "domain": domain,
                "group_by": "stage_id",
                "progress_bar": {
                    "field": "activity_state",
                    "colors": {
                        "planned": "success",
                        "today": "warning",
                        "overdue": "danger",
                    },
                },
            },
            name="pipeline: progress bar",
        )
        result = self.call(
            "crm.lead",
            "web_search_read",
            [domain],
            {
                "specification": {
                    "name": {},
                    "partner_id": {"fields": {"display_name": {}}},
                    "stage_id": {"fields": {"display_name": {}}},
                    "expected_revenue": {},
                    "is_stuck": {},
                    "activity_state": {},
                },
                "limit": 80,
                "order": "id desc",
            },
            name="pipeline: cards",
        )
        if result:
            self.deals = [
                record
                for record in result["records"]
                if record["stage_id"] and record["partner_id"]
            ]

    def _deal(self, open_only=True):
        won = {stage["id"] for stage in self.stages if stage["is_won"]}
        deals = [
            deal
            for deal in self.deals
            if not open_only or deal["stage_id"]["id"] not in won
        ]
        return random.choice(deals) if deals else None

    def _tick(self, deal, name="tick criteria"):
        lines = self.call(
            "crm.lead.criterion",
            "search",
            [
                [
                    ("lead_id", "=", deal["id"]),
                    ("in_current_stage", "=", True),
                    ("done", "=", False),
                    ("criterion_id.evidence_type", "in", [False, "none"]),
                ]
            ],
            name="criteria to tick",
        )
        if lines:
            self.call("crm.lead.criterion", "write", [lines, {"done": True}], name=name)

    def _move(self, deal, step):
        ids = [stage["id"] for stage in self.stages]
        current = deal["stage_id"]["id"]
        if current not in ids:
            return
        index = ids.index(current) + step
        if not 0 <= index < len(ids):
            return
        target = self.stages[index]
        if target["is_won"] and self.product:
            self.call(
                "crm.lead",
                "write",
                [[deal["id"]], {"line_ids": [(0, 0, {"product_id": self.product})]}],
                name="add an order line",
            )
        self.call(
            "crm.lead",
            "write",
            [[deal["id"]], {"stage_id": target["id"]}],
            name="move forward" if step > 0 else "move back",
        )
        deal["stage_id"] = {"id": target["id"]}

    @task(3)
    def tick_criteria(self):
        deal = self._deal()
        if deal:
            self._tick(deal)

    @task(3)
    def move_forward(self):
        deal = self._deal()
        if deal:
            self._tick(deal, name="tick before moving")
            self._move(deal, 1)

    @task(2)
    def win_deal(self):
        closing = [stage["id"] for stage in self.stages if not stage["is_won"]][-1:]
        deals = self.call(
            "crm.lead",
            "search",
            [self._domain() + [("stage_id", "in", closing), ("line_ids", "!=", False)]],
            {"limit": 1},
            name="deals to win",
        )
        if deals:
            self.call("crm.lead", "action_set_won", [deals], name="win deal")

    @task(1)
    def move_back(self):
        deal = self._deal()
        if deal:
            self._move(deal, -1)

    @task(1)
    def log_interview(self):
        deal = self._deal()
        if not deal:
            return
        interview = self.call(
            "crm.lead.interview",
            "create",
            [
                {
                    "lead_id": deal["id"],
                    "objective": "Confirm the technical requirements",
                    "participant_ids": [
                        (0, 0, {"partner_id": deal["partner_id"]["id"]})
                    ],
                    "result_ids": [(0, 0, {"name": "Needs 12 switchgear bays"})],
                }
            ],
            name="log interview report",
        )
        if interview:
            self.call(
                "crm.lead.interview",
                "action_submit",
                [[interview] if isinstance(interview, int) else interview],
                name="submit interview report",
            )

    @task(1)
    def lose_deal(self):
        deal = self._deal()
        if not deal or not self.lost_reason:
            return
        report = self.call(
            "crm.lead.loss.report",
            "create",
            [
                {
                    "lead_id": deal["id"],
                    "lost_reason_id": self.lost_reason,
                    "customer_reason": "The board froze the budget for this year.",
                    "analysis": "We never met the decision maker.",
                    "prevention": "Meet the decision maker in Development.",
                }
            ],
            name="loss report",
        )
        if report:
            self.call("crm.lead", "action_set_lost", [[deal["id"]]], name="lose deal")
            self.deals.remove(deal)


class Manager(OdooUser):
    fixed_count = 1
    login = "loadtest_manager"

    @task(3)
    def dashboard(self):
        self.call(
            "crm.funnel.dashboard",
            "get_data",
            [],
            {"period": random.choice(["this_quarter", "next_quarter", "this_year"])},
            name="dashboard",
        )

    @task(2)
    def forecast(self):
        self.call(
            "crm.funnel.summary",
            "web_read_group",
            [
                [],
                ["open_amount:sum", "weighted_amount:sum", "won_amount:sum"],
                ["stage_id", "period:month"],
            ],
            {"lazy": False},
            name="funnel forecast pivot",
        )

    @task(1)
    def stage_analysis(self):
        self.call(
            "crm.funnel.stage.report",
            "web_read_group",
            [[], ["__count"], ["stage_id"]],
            {"lazy": False},
            name="stage analysis",
        )


class Secretary(OdooUser):
    fixed_count = 1
    login = "loadtest_secretary"

    @task
    def transmit(self):
        deals = self.call(
            "crm.lead",
            "search",
            [
                [
                    ("stage_id.is_won", "=", True),
                    ("handoff_status", "=", "0"),
                    ("line_ids", "!=", False),
                ]
            ],
            {"limit": 3, "order": "id desc"},
            name="won deals to transmit",
        )
        if deals:
            self.call("crm.lead", "action_handoff", [deals], name="transmit won deals")
        else:
            time.sleep(1)
