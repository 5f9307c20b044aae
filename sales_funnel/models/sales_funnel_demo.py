import random
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL, date_utils

DEMO_PROJECTS = [
    "Substation retrofit 变电站改造",
    "Smart metering rollout 智能电表",
    "Tunnel lighting upgrade 隧道照明改造",
    "Pump station automation 泵站自动化",
    "Data centre cooling 数据中心制冷",
    "Warehouse LED relighting 仓库LED照明",
    "Annual maintenance contract 年度维保合同",
    "Energy monitoring platform 能耗监测平台",
    "Emergency power system 应急电源系统",
    "Production line sensors 产线传感器",
]
# Where each demo opportunity ends: a funnel stage, won or lost (60 in all).
DEMO_OUTCOMES = (
    ["verification"] * 12
    + ["development"] * 11
    + ["proposal"] * 9
    + ["closing"] * 7
    + ["won"] * 12
    + ["lost"] * 9
)
FUNNEL = ["verification", "development", "proposal", "closing"]


class SalesFunnelDemo(models.AbstractModel):
    """Builds the demo funnel (called from demo/sales_funnel_demo.xml)."""

    _name = "sales_funnel.demo"
    _description = "Sales Funnel Demo Data"

    @api.model
    def _adopt_chinese_identity(self):
        """The demo company is a Chinese enterprise that sells in CNY (¥)."""
        company = self.env.ref("base.main_company")
        cny = self.env.ref("base.CNY")
        cny.active = True
        company.write(
            {
                "name": "华信智能装备有限公司 Huaxin Intelligent Equipment Co., Ltd.",
                "country_id": self.env.ref("base.cn").id,
                "city": "上海 Shanghai",
                "street": "浦东新区张江路88号",
                "zip": "201203",
            }
        )
        old = company.currency_id
        if old == cny:
            return
        # The accounting demo has posted entries in the old currency, and
        # res.company then refuses the change: switch it, and every stored
        # copy of the company currency, in SQL (demo databases only).
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_company SET currency_id = %s WHERE id = %s",
            [cny.id, company.id],
        )
        for model in self.env.registry.values():
            if model._abstract or not model._auto or "company_id" not in model._fields:
                continue
            for field in model._fields.values():
                if field.store and field.related == "company_id.currency_id":
                    self.env.cr.execute(
                        SQL(
                            "UPDATE %s SET %s = %s WHERE company_id = %s",
                            SQL.identifier(model._table),
                            SQL.identifier(field.name),
                            cny.id,
                            company.id,
                        )
                    )
        self.env.invalidate_all()
        # Prices are quoted in the company currency too.
        self.env["product.pricelist"].search(
            [("currency_id", "=", old.id), ("company_id", "in", [company.id, False])]
        ).currency_id = cny

    @api.model
    def _generate(self):
        """A six-month story: every opportunity walks the real gate as its
        salesperson, then its history is spread back in time."""
        rng = random.Random(2026)
        ref = self.env.ref
        stages = {key: ref(f"sales_funnel.crm_stage_{key}") for key in FUNNEL + ["won"]}
        teams = [ref("sales_funnel.team_east"), ref("sales_funnel.team_south")]
        partners = (
            self.env["res.partner"]
            .browse(
                self.env["ir.model.data"]
                .search(
                    [("module", "=", "sales_funnel"), ("model", "=", "res.partner")]
                )
                .mapped("res_id")
            )
            .filtered("is_company")
        ) - ref("sales_funnel.partner_ningbo_port_twin")
        reasons = self.env["crm.lost.reason"].search([], limit=4, order="id desc")
        outcomes = DEMO_OUTCOMES[:]
        rng.shuffle(outcomes)
        timelines = {}
        for index, outcome in enumerate(outcomes):
            team = teams[index % 2]
            user = rng.choice(team.member_ids - team.user_id)
            lead = self._walk(
                rng, index, outcome, user, team, rng.choice(partners), stages, reasons
            )
            timelines[lead] = self._spread(rng, lead, outcome)
        won = [lead for lead in timelines if lead.stage_id.is_won]
        self._add_lines(rng, won)
        self._backdate(rng, timelines)
        self._handoff_story(won)
        self._forecast_story(rng, teams)

    def _add_lines(self, rng, leads):
        """Product lines of the won deals: main products, services, accessories."""
        ref = self.env.ref
        mains = [
            ref("sales_funnel.product_switchgear"),
            ref("sales_funnel.product_smart_meter"),
            ref("sales_funnel.product_led"),
        ]
        for index, lead in enumerate(leads):
            main = mains[index % len(mains)]
            quantity = max(1, round(lead.expected_revenue * 0.8 / main.list_price))
            lines = [
                Command.create({"product_id": main.id, "quantity": quantity}),
                Command.create(
                    {
                        "product_id": ref("sales_funnel.product_cable_kit").id,
                        "quantity": rng.randrange(5, 40),
                    }
                ),
            ]
            if index % 2:
                lines.append(
                    Command.create(
                        {
                            "product_id": ref("sales_funnel.product_maintenance").id,
                            "line_type": "recurring",
                            "recurring_rule_type": "yearly",
                        }
                    )
                )
            lead.line_ids = lines

    def _forecast_story(self, rng, teams):
        """Quarterly targets, next month's forecasts and the accuracy of the
        forecasts of the months that are over."""
        today = fields.Date.context_today(self)
        quarter = date_utils.start_of(today, "quarter")
        targets = []
        for team in teams:
            members = team.member_ids - team.user_id
            for step in (-2, -1, 0, 1):
                start = quarter + relativedelta(months=3 * step)
                amounts = [rng.randrange(15, 35) * 100000 for _member in members]
                targets += [
                    {"user_id": user.id, "period_date": start, "amount": amount}
                    for user, amount in zip(members, amounts, strict=True)
                ]
                targets.append(
                    {"team_id": team.id, "period_date": start, "amount": sum(amounts)}
                )
        self.env["crm.sales.target"].create(
            [dict(vals, period_type="quarter") for vals in targets]
        )
        # Next month: each salesperson submits, some with their own figure.
        Submission = self.env["crm.forecast.submission"]
        for index, user in enumerate((teams[0] | teams[1]).member_ids.sorted("id")):
            draft = Submission.with_user(user).create(
                {"level": "salesperson", "user_id": user.id, "period_type": "month"}
            )
            if index % 2:
                draft.write(
                    {
                        "amount": round(draft.system_amount * 1.2, -3),
                        "comment": "The customer confirmed the budget last week.",
                    }
                )
            draft.action_submit()
        self._past_accuracy(rng, today)

    def _past_accuracy(self, rng, today):
        """Snapshots of the last four months, as the monthly job took them,
        with forecasts around what was then won, then evaluated."""
        Snapshot = self.env["crm.forecast.snapshot"].sudo()
        company = self.env.company
        month = date_utils.start_of(today, "month")
        vals_list = []
        for step in range(1, 5):
            start = month - relativedelta(months=step)
            end = date_utils.end_of(start, "month")
            won = Snapshot._won_amounts(company, start, end)
            known = {key: amount for key, amount in won.items() if key[1]}
            for (level, owner), actual in sorted(known.items()):
                forecast = round(actual * rng.uniform(0.7, 1.45), -3)
                vals = {
                    "snapshot_date": start - relativedelta(months=1),
                    "company_id": company.id,
                    "level": level,
                    "period_type": "month",
                    "date_from": start,
                    "date_to": end,
                    "system_amount": round(actual * rng.uniform(0.5, 1.6), -3),
                    "submitted_amount": forecast,
                    "forecast_amount": forecast,
                }
                if level == "salesperson":
                    vals["user_id"] = owner
                elif level == "team":
                    vals["team_id"] = owner
                vals_list.append(vals)
        Snapshot._create_record(vals_list)._evaluate_snapshots(today)

    def _handoff_story(self, won):
        """The secretary's list: won deals in every integration status."""
        ref = self.env.ref
        won = sorted(won, key=lambda lead: lead.date_closed)
        duplicate, no_lines, cancelled, quotation, untouched = won[:5]
        ningbo = ref("sales_funnel.partner_ningbo_port")
        duplicate.write(
            {
                "partner_id": ningbo.id,
                "name": f"{ningbo.name} - {duplicate.name.split(' - ', 1)[-1]}",
            }
        )
        no_lines.line_ids = [Command.clear()]
        # Won before the hand-off was switched on: waits for "Transmit Now".
        untouched.handoff_queued = False
        secretary = ref("sales_funnel.user_wu_fang")
        company = self.env.company
        company.sales_funnel_handoff_confirm_order = False
        quotation.with_user(secretary).action_handoff()
        company.sales_funnel_handoff_confirm_order = True
        queued = self.env["crm.lead"].browse(
            [lead.id for lead in won if lead.handoff_queued]
        )
        queued.with_user(secretary).action_handoff()
        cancelled.handoff_order_id._action_cancel()
        # Orders carry the date the deal was won.
        self.env.flush_all()
        self.env.cr.execute(
            """
            UPDATE sale_order o SET date_order = l.date_closed
              FROM crm_lead l
             WHERE o.sales_funnel_handoff_lead_id = l.id
            """
        )
        self.env.invalidate_all()

    def _walk(self, rng, index, outcome, user, team, partner, stages, reasons):
        Lead = (
            self.env["crm.lead"]
            .with_user(user)
            .with_context(mail_create_nolog=True, tracking_disable=True)
        )
        project = DEMO_PROJECTS[index % len(DEMO_PROJECTS)]
        lead = Lead.create(
            {
                "name": f"{partner.name} - {project}",
                "type": "opportunity",
                "partner_id": partner.id,
                "user_id": user.id,
                "team_id": team.id,
                "stage_id": stages["verification"].id,
                "expected_revenue": rng.randrange(80, 2500) * 1000,
                "priority": rng.choice(["0", "1", "1", "2", "3"]),
            }
        )
        last = {"won": 3, "lost": rng.randrange(0, 4)}.get(outcome)
        target = FUNNEL.index(outcome) if last is None else last
        for step in range(target):
            if outcome != "lost" and step == 1 and index % 6 == 4:
                # A manager lets a strategic deal skip the open criteria.
                manager = team.user_id
                lead.with_user(manager)._move_past_gate(
                    stages[FUNNEL[step + 1]],
                    "Strategic account: the group headquarters already approved "
                    "the budget.",
                )
                continue
            lead.current_criterion_ids.filtered("required").write({"done": True})
            lead.write({"stage_id": stages[FUNNEL[step + 1]].id})
            if step == 1 and index % 7 == 3:
                # The proposal was premature: back to Development, then on again.
                lead.write({"stage_id": stages["development"].id})
                lead.write({"stage_id": stages[FUNNEL[step + 1]].id})
        if outcome == "won":
            lead.current_criterion_ids.filtered("required").write({"done": True})
            lead.action_set_won()
        elif outcome == "lost":
            lead.action_set_lost(lost_reason_id=rng.choice(reasons).id)
        else:
            # Work in progress: part of the current checklist is done.
            lines = lead.current_criterion_ids
            lines[: rng.randrange(0, len(lines))].write({"done": True})
        return lead

    def _spread(self, rng, lead, outcome):
        """Dates for the lead's history rows, oldest first, ending before now."""
        now = self.env.cr.now()
        rows = lead.stage_history_ids.sorted("id")
        gaps = [rng.uniform(3, 25) for _row in rows[1:]]
        if outcome in ("won", "lost"):
            # Closed somewhere in the last six months.
            start = now - timedelta(
                days=rng.randrange(30, 180), hours=rng.randrange(0, 9)
            )
            budget = (now - start).total_seconds() / 86400 - rng.uniform(1, 20)
            scale = min(1.0, budget / sum(gaps)) if gaps else 1.0
        else:
            # Still open: entered its current stage a few days or weeks ago.
            scale = min(1.0, 150 / sum(gaps)) if gaps else 1.0
            spent = sum(gaps) * scale + rng.uniform(1, 20 if gaps else 45)
            start = now - timedelta(days=spent)
        dates = [start]
        for gap in gaps:
            dates.append(dates[-1] + timedelta(days=gap * scale))
        return list(zip(rows, dates, strict=True))

    def _backdate(self, rng, timelines):
        # History rows refuse ORM writes by design: the demo rewrites time in SQL.
        cr = self.env.cr
        now = cr.now()
        self.env.flush_all()
        for lead, dated_rows in timelines.items():
            previous = None
            for row, date in dated_rows:
                days = (date - previous).total_seconds() / 86400 if previous else 0.0
                if row.event == "restore":
                    days = 0.0
                cr.execute(
                    "UPDATE crm_lead_stage_history"
                    " SET date = %s, days_in_previous_stage = %s WHERE id = %s",
                    (date, days, row.id),
                )
                if row.override_id:
                    cr.execute(
                        "UPDATE crm_stage_gate_override SET date = %s WHERE id = %s",
                        (date, row.override_id.id),
                    )
                previous = date
            first, last = dated_rows[0][1], dated_rows[-1][1]
            closed = lead.stage_id.is_won or not lead.active
            cr.execute(
                """
                UPDATE crm_lead
                   SET create_date = %(first)s, date_open = %(first)s,
                       date_last_stage_update = %(last)s,
                       date_closed = CASE WHEN %(closed)s THEN %(last)s END,
                       date_deadline = %(deadline)s
                 WHERE id = %(id)s
                """,
                {
                    "first": first,
                    "last": last,
                    "closed": closed,
                    "deadline": (
                        last if closed else now + timedelta(days=rng.randrange(15, 150))
                    ).date(),
                    "id": lead.id,
                },
            )
            # Ticks happened while the opportunity sat in the criterion's stage:
            # before it left the stage, or since it entered the current one.
            cr.execute(
                """
                UPDATE crm_lead_criterion line
                   SET done_date = COALESCE(
                           (SELECT MIN(h.date) FROM crm_lead_stage_history h
                             WHERE h.lead_id = line.lead_id
                               AND h.from_stage_id = line.stage_id)
                           - interval '5 hours',
                           (SELECT MAX(h.date) + (%(now)s - MAX(h.date)) / 2
                              FROM crm_lead_stage_history h
                             WHERE h.lead_id = line.lead_id
                               AND h.to_stage_id = line.stage_id),
                           %(now)s)
                 WHERE line.lead_id = %(id)s AND line.done
                """,
                {"now": now, "id": lead.id},
            )
        self.env.invalidate_all()
