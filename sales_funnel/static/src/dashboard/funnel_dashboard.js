import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { formatFloat } from "@web/core/utils/numbers";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

export class FunnelDashboard extends Component {
    static template = "sales_funnel.FunnelDashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({
            // The server's default period until the first answer says which.
            period: false,
            teamId: false,
            userId: false,
            data: null,
        });
        onWillStart(() => this.load());
    }

    async load() {
        const data = await this.orm.call("crm.funnel.dashboard", "get_data", [], {
            period: this.state.period,
            team_id: this.state.teamId,
            user_id: this.state.userId,
        });
        this.state.period = data.period;
        this.state.data = data;
    }

    /** The periods offered, [[key, label]], as the server defines them. */
    get periods() {
        return this.state.data.periods;
    }

    async onFilter(key, ev) {
        const value = ev.target.value;
        this.state[key] = key === "period" ? value : parseInt(value) || false;
        if (key === "teamId") {
            this.state.userId = false;
        }
        await this.load();
    }

    money(value) {
        if (value === null || value === undefined) {
            return "—";
        }
        const { symbol, position } = this.state.data.currency;
        const amount = formatFloat(value, { digits: [false, 0] });
        return position === "before" ? `${symbol} ${amount}` : `${amount} ${symbol}`;
    }

    percent(value) {
        return value === null || value === undefined
            ? "—"
            : `${formatFloat(value * 100, { digits: [false, 0] })}%`;
    }

    days(value) {
        return value === null || value === undefined
            ? "—"
            : formatFloat(value, { digits: [false, 1] });
    }

    /** Bar width of a funnel stage: its amount against the widest stage. */
    barWidth(stage) {
        const widest = Math.max(...this.state.data.funnel.map((s) => s.amount), 1);
        return `${Math.max(8, (100 * stage.amount) / widest)}%`;
    }

    get coverageWidth() {
        const { coverage } = this.state.data.totals;
        return `${Math.min(100, (coverage || 0) * 100)}%`;
    }

    sliceDomain() {
        const domain = [["type", "=", "opportunity"]];
        if (this.state.teamId) {
            domain.push(["team_id", "=", this.state.teamId]);
        }
        if (this.state.userId) {
            domain.push(["user_id", "=", this.state.userId]);
        }
        return domain;
    }

    openStage(stage) {
        const { date_from, date_to } = this.state.data;
        this.action.doAction({
            type: "ir.actions.act_window",
            name: stage.name,
            res_model: "crm.lead",
            views: [
                [false, "list"],
                [false, "form"],
            ],
            domain: [
                ...this.sliceDomain(),
                ["stage_id", "=", stage.stage_id],
                ["date_deadline", ">=", date_from],
                ["date_deadline", "<=", date_to],
            ],
        });
    }

    openStuck() {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Stuck opportunities"),
            res_model: "crm.lead",
            views: [
                [false, "list"],
                [false, "form"],
            ],
            domain: [...this.sliceDomain(), ["is_stuck", "=", true]],
        });
    }

    openLead(lead) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "crm.lead",
            res_id: lead.id,
            views: [[false, "form"]],
        });
    }
}

registry.category("actions").add("sales_funnel.dashboard", FunnelDashboard);
