"""Shared fixtures of the addon's tests: one base class per set-up.

- ``FunnelCase``: the shipped funnel and real users at each Sales level.
- ``AnalyticsCase``: opportunities moved through the real write path at frozen times.
- ``ForecastCase``: a team with opportunities closing in 2031/2032.
- ``HandoffCase``: a won-deal hand-off set-up (team, secretary, products, lines).
- ``PdfReportCase``: prints QWeb reports to real PDF and reads them back
  (Odoo's test mode answers a PDF print with HTML; these helpers force the real
  rendering through wkhtmltopdf and read it back with poppler).
"""

import base64
import re
import shutil
import subprocess
import tempfile
import unicodedata
from contextlib import contextmanager, nullcontext
from pathlib import Path
from unittest.mock import patch

import polib
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import HttpCase, new_test_user
from odoo.tests.common import TransactionCase
from odoo.tools.translate import TranslationImporter


class FunnelCase(TransactionCase):
    """Fixtures: the shipped funnel, real users at each Sales level."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.salesman = new_test_user(
            cls.env, "sf_sales", groups="sales_team.group_sale_salesman", name="Li Na"
        )
        cls.salesman2 = new_test_user(
            cls.env, "sf_sales2", groups="sales_team.group_sale_salesman"
        )
        cls.manager = new_test_user(
            cls.env, "sf_manager", groups="sales_team.group_sale_manager"
        )
        Stage = cls.env["crm.stage"]
        cls.verification = cls.env.ref("sales_funnel.crm_stage_verification")
        cls.development = cls.env.ref("sales_funnel.crm_stage_development")
        cls.proposal = cls.env.ref("sales_funnel.crm_stage_proposal")
        cls.closing = cls.env.ref("sales_funnel.crm_stage_closing")
        cls.won = cls.env.ref("sales_funnel.crm_stage_won")
        cls.stages = Stage.browse(
            [cls.verification.id, cls.development.id, cls.proposal.id, cls.closing.id]
        )
        cls.partner = cls.env["res.partner"].create(
            {"name": "上海华东电力设备有限公司", "is_company": True}
        )
        cls.lead = cls._new_lead("Substation retrofit", cls.salesman)

    @classmethod
    def _new_lead(cls, name, user, stage=None, revenue=100000.0):
        return cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "partner_id": cls.partner.id,
                "user_id": user.id,
                "stage_id": (stage or cls.verification).id,
                "expected_revenue": revenue,
            }
        )

    @classmethod
    def _tick_all(cls, lead, user=None):
        """Tick the required criteria of the current stage, as ``user``, with
        the documents they ask for (see ``_provide_evidence``)."""
        user = user or cls.salesman
        lines = lead.current_criterion_ids.filtered("required")
        cls._provide_evidence(lines, user)
        lines.with_user(user).write({"done": True})

    # ------------------------------------------------------------------
    # The evidence criteria ask for (crm.stage.criterion.evidence_type)
    # ------------------------------------------------------------------

    @classmethod
    def _provide_evidence(cls, lines, user=None):
        """Make, as ``user``, the documents the criteria of ``lines`` ask for:
        one maker per evidence type (``_make_evidence_<type>``), called once
        an opportunity with the criteria of that type."""
        user = user or cls.salesman
        todo = {}
        for line in lines:
            kind = line.criterion_id.evidence_type
            if kind and kind != "none":
                key = (line.lead_id, kind)
                todo[key] = todo.get(key, cls.env["crm.stage.criterion"])
                todo[key] |= line.criterion_id
        for (lead, kind), criteria in todo.items():
            getattr(cls, f"_make_evidence_{kind}")(lead.with_user(user), criteria)

    @classmethod
    def _customer_contact(cls, lead, name, function=None):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "parent_id": lead.partner_id.id,
                "type": "contact",
                "function": function,
            }
        )

    # The card section → the values that fill it in.
    _CARD_ROLES = {
        "decision_maker": ["decision_maker"],
        "coach": ["coach"],
        "buyer": ["buyer"],
        "buying_roles": ["user", "influencer", "decision_maker", "buyer"],
        "basics": ["user", "influencer", "decision_maker", "buyer"],
        "complete": ["decision_maker", "coach", "buyer"],
    }

    @classmethod
    def _card_values(cls, lead, sections):
        card = lead.fact_card_ids[:1]
        present = set(card.role_ids.mapped("role"))
        roles = []
        for section in sections:
            for role in cls._CARD_ROLES.get(section, []):
                if role not in present:
                    present.add(role)
                    contact = cls._customer_contact(lead, f"{role} of {lead.name}")
                    roles.append(
                        Command.create({"role": role, "partner_id": contact.id})
                    )
        vals = {"role_ids": roles} if roles else {}
        if {"organisation", "basics", "complete"} & set(sections):
            vals["organisation"] = "<p>Plant manager → procurement → director</p>"
        if {"value_points", "complete"} & set(sections):
            vals.update(value_point_1="Energy savings", value_point_2="Uptime")
        if {"budget", "complete"} & set(sections):
            vals.update(has_budget=True, budget_amount=500000.0)
        if {"funds", "complete"} & set(sections):
            vals["funds_source"] = "Group technical-renovation fund"
        if {"buying_stage", "complete"} & set(sections):
            vals["buying_stage"] = "evaluation"
        return card, vals

    @classmethod
    def _make_evidence_card_section(cls, lead, criteria):
        card, vals = cls._card_values(lead, criteria.mapped("evidence_card_section"))
        if card:
            card.write(vals)
        else:
            cls.env["crm.lead.fact.card"].with_user(lead.env.user).create(
                {"lead_id": lead.id, **vals}
            )

    @classmethod
    def _make_evidence_interview(cls, lead, criteria):
        """A submitted interview report; the buying roles the criteria ask
        for are named on the card and take part."""
        roles = [role for role in criteria.mapped("evidence_role") if role]
        contacts = cls.env["res.partner"]
        if roles:
            card = lead.fact_card_ids[:1]
            present = card.role_ids.filtered(lambda role: role.role in roles)
            contacts = present.partner_id
            missing = set(roles) - set(present.mapped("role"))
            if missing:
                new = {
                    role: cls._customer_contact(lead, f"{role} of {lead.name}")
                    for role in missing
                }
                vals = {
                    "role_ids": [
                        Command.create({"role": role, "partner_id": contact.id})
                        for role, contact in new.items()
                    ]
                }
                if card:
                    card.write(vals)
                else:
                    cls.env["crm.lead.fact.card"].with_user(lead.env.user).create(
                        {"lead_id": lead.id, **vals}
                    )
                contacts |= cls.env["res.partner"].union(*new.values())
        if not contacts:
            contacts = cls._customer_contact(lead, f"Host of {lead.name}")
        interview = lead.env["crm.lead.interview"].create(
            {
                "lead_id": lead.id,
                "objective": "Understand the lighting needs of the plant",
                "participant_ids": [
                    Command.create({"partner_id": contact.id}) for contact in contacts
                ],
                "result_ids": [Command.create({"name": "Needs confirmed"})],
            }
        )
        interview.action_submit()

    @classmethod
    def _make_evidence_problem(cls, lead, criteria):
        lead.env["crm.lead.problem"].create(
            {
                "lead_id": lead.id,
                "name": "Warehouse lighting too dim for night shifts",
                "impact": "Picking errors",
            }
        )

    @classmethod
    def _make_evidence_trial(cls, lead, criteria):
        contact = cls._customer_contact(lead, f"Signer of {lead.name}")
        report = lead.env["crm.lead.trial.report"].create(
            {
                "lead_id": lead.id,
                "name": "20 LED high-bay lamps in warehouse 3",
                "accepted_by_id": contact.id,
                "acceptance_date": fields.Date.today(),
                "signed_report": base64.b64encode(b"%PDF-1.4 signed"),
                "signed_report_name": "trial.pdf",
            }
        )
        report.action_accept()

    @classmethod
    def _make_evidence_attachment(cls, lead, criteria):
        lead.env["ir.attachment"].create(
            {
                "name": "stamped-contract.pdf",
                "raw": b"%PDF-1.4 stamped",
                "res_model": "crm.lead",
                "res_id": lead.id,
            }
        )

    @contextmanager
    def _at(self, when):
        """Freeze the clock, the transaction time (crm's stage dates) included."""
        with (
            freeze_time(when),
            patch.object(self.env.cr, "now", lambda: fields.Datetime.to_datetime(when)),
        ):
            yield

    def _required(self, stage):
        return stage.criterion_ids.filtered("required")

    @classmethod
    def _loss_report_vals(cls, **vals):
        """A complete loss report (丢失客户报告表), ``vals`` changing it."""
        return {
            "lost_reason_id": cls.env.ref("sales_funnel.crm_lost_reason_budget").id,
            "customer_reason": "The board froze the budget for this year.",
            "analysis": "We never met the decision maker.",
            "prevention": "Meet the decision maker in Development.",
            **vals,
        }

    def _lose(self, lead, when=None, user=None, **report):
        """Lose ``lead`` as its salesperson (else ``user``), the way every path
        must: with a complete loss report, then ``action_set_lost``. ``when``
        freezes the clock (stage history at a known time)."""
        user = user or lead.user_id or self.env.user
        with self._at(when) if when else nullcontext():
            self.env["crm.lead.loss.report"].with_user(user).create(
                {"lead_id": lead.id, **self._loss_report_vals(**report)}
            )
            lead.with_user(user).action_set_lost()
            if when:
                self.env.flush_all()
                self.env.cr.precommit.run()


class AnalyticsCase(FunnelCase):
    """Opportunities moved through the funnel by the real write path at
    frozen times, so the stage history is what users would have produced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Hand-computed totals must not depend on demo or other data.
        cls.env["crm.lead"].with_context(active_test=False).search(
            [("id", "!=", cls.lead.id)]
        ).unlink()
        cls.lead.unlink()

    def _create(self, name, when, user=None, revenue=100000.0, **vals):
        with self._at(when):
            lead = self.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "opportunity",
                    "partner_id": self.partner.id,
                    "user_id": (user or self.salesman).id,
                    "stage_id": self.verification.id,
                    "expected_revenue": revenue,
                    **vals,
                }
            )
            self.env.flush_all()
            self.env.cr.precommit.run()
        return lead

    def _move(self, lead, stage, when):
        """Tick the current stage's required criteria, then move (as its owner)."""
        with self._at(when):
            owner = lead.user_id or self.salesman
            self._tick_all(lead, owner)
            lead.with_user(owner).write({"stage_id": stage.id})
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _walk(self, lead, steps):
        for stage, when in steps:
            self._move(lead, stage, when)

    def _win(self, lead, when):
        with self._at(when):
            self._tick_all(lead, lead.user_id)
            lead.with_user(lead.user_id).action_set_won()
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _restore(self, lead, when):
        with self._at(when):
            lead.with_user(lead.user_id).action_unarchive()
            self.env.flush_all()
            self.env.cr.precommit.run()

    def _write(self, lead, vals, when):
        """A tracked change (salesperson, amount) made at ``when``."""
        with self._at(when):
            lead.write(vals)
            self.env.flush_all()
            self.env.cr.precommit.run()

    @staticmethod
    def _day(value):
        return fields.Datetime.to_datetime(value)

    def _signed_review(self, user, prepared, signed, reviewer=None):
        """The weekly self-check of ``user`` prepared at ``prepared`` (the job's
        method, whatever the company's day), checked and submitted by them, and
        its one-to-one review signed off at ``signed`` (by a sales manager)."""
        selfcheck = self._submitted_selfcheck(user, prepared)
        with self._at(signed):
            selfcheck.with_user(reviewer or self.manager).action_sign_off()
        return selfcheck

    def _submitted_selfcheck(self, user, prepared):
        """The weekly self-check of ``user`` prepared at ``prepared``, checked
        and submitted by them."""
        Selfcheck = self.env["crm.funnel.selfcheck"]
        day = fields.Datetime.to_datetime(prepared).date()
        with self._at(prepared):
            Selfcheck._prepare_selfchecks(self.env.company, day)
            selfcheck = Selfcheck.search(
                [
                    ("user_id", "=", user.id),
                    ("week_start", "=", fields.Date.start_of(day, "week")),
                ]
            ).with_user(user)
            for line in selfcheck.deal_line_ids:
                line.note = "Checked."
            selfcheck.plan = "<p>Next week: move the funnel on.</p>"
            selfcheck.action_submit()
        return selfcheck


class ForecastCase(FunnelCase):
    """A team (East China: Li Na and a colleague) with opportunities closing in
    December 2031 and in the first quarter of 2032."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls.env["crm.team"].create(
            {
                "name": "East China",
                "user_id": cls.manager.id,
                "member_ids": [Command.set((cls.salesman | cls.salesman2).ids)],
            }
        )
        cls.lead.unlink()

    @classmethod
    def _opportunity(cls, user, stage, revenue, deadline, **vals):
        return cls.env["crm.lead"].create(
            {
                "name": f"{stage.name} {revenue} {deadline}",
                "type": "opportunity",
                "partner_id": cls.partner.id,
                "user_id": user.id,
                "team_id": cls.team.id,
                "stage_id": stage.id,
                "expected_revenue": revenue,
                "date_deadline": deadline,
                **vals,
            }
        )

    def _submission(self, user, **vals):
        return (
            self.env["crm.forecast.submission"]
            .with_user(user)
            .create({"period_type": "month", **vals})
        )


class HandoffCase(FunnelCase):
    """A won-deal hand-off set-up: team, secretary, products, a deal with lines."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secretary = new_test_user(
            cls.env,
            "sf_secretary",
            groups="sales_funnel.group_sales_secretary",
            name="Zhou Mi",
        )
        cls.team = cls.env["crm.team"].create({"name": "East China"})
        cls.env["crm.team.member"].create(
            {"crm_team_id": cls.team.id, "user_id": cls.salesman.id}
        )
        cls.accessories = cls.env["product.category"].create(
            {"name": "Cables and fittings", "sales_funnel_is_accessory": True}
        )
        Product = cls.env["product.product"]
        cls.switchgear = Product.create(
            {"name": "Switchgear KYN28", "list_price": 50000.0, "sale_ok": True}
        )
        cls.maintenance = Product.create(
            {
                "name": "Maintenance service",
                "type": "service",
                "list_price": 2000.0,
                "sale_ok": True,
            }
        )
        cls.cable = Product.create(
            {
                "name": "Cable set",
                "list_price": 300.0,
                "sale_ok": True,
                "categ_id": cls.accessories.id,
            }
        )
        cls.deal = cls._new_deal("Substation switchgear")

    @classmethod
    def _new_deal(cls, name, recurring=True, user=None):
        lead = cls._new_lead(name, user or cls.salesman, cls.closing)
        lead.team_id = cls.team
        lines = [
            Command.create(
                {"product_id": cls.switchgear.id, "quantity": 2, "discount": 10.0}
            ),
            Command.create({"product_id": cls.cable.id, "quantity": 10}),
        ]
        if recurring:
            lines.append(
                Command.create(
                    {
                        "product_id": cls.maintenance.id,
                        "quantity": 1,
                        "line_type": "recurring",
                        "recurring_rule_type": "quarterly",
                    }
                )
            )
        lead.line_ids = lines
        return lead

    def _win(self, lead):
        self._tick_all(lead, self.manager)
        lead.with_user(self.manager).action_set_won()
        self.assertEqual(lead.stage_id, self.won)

    def _orders(self, lead):
        return self.env["sale.order"].search(
            [("sales_funnel_handoff_lead_id", "=", lead.id)]
        )

    def _contracts(self, lead):
        return self.env["contract.contract"].search(
            [("sales_funnel_handoff_lead_id", "=", lead.id)]
        )


# What the set-up must install (Debian packages) for printing to work.
PDF_PACKAGES = "wkhtmltopdf fonts-noto-cjk poppler-utils"

# wkhtmltopdf (Qt) maps each glyph back to the lowest code point that uses it:
# in Noto CJK the ideograph 用 shares its glyph with the Kangxi radical ⽤, so the
# PDF's text layer says ⽤ where the page shows 用. The page is right; the text is
# read back as the reader sees it.
KANGXI_RADICALS = re.compile("[\u2e80-\u2fdf]")


class PdfReportCase(HttpCase):
    """A test that prints reports to real PDF and reads them back."""

    @classmethod
    def _load_chinese(cls):
        """zh_CN active with the addon's translations; those a branch keeps in
        ``i18n/pending/*.po`` until they are merged into zh_CN.po too."""
        cls.env["res.lang"]._activate_lang("zh_CN")
        cls.env["ir.module.module"].search(
            [("name", "=", "sales_funnel")]
        )._update_translations(["zh_CN"])
        pending = Path(__file__).parent.parent / "i18n" / "pending"
        files = sorted(pending.glob("*.po")) if pending.is_dir() else []
        if files:
            importer = TranslationImporter(cls.env.cr, verbose=False)
            for path in files:
                importer.load(cls._pending_po(path), "po", "zh_CN")
            importer.save(overwrite=True)

    @staticmethod
    def _pending_po(path):
        """A pending file as Odoo's importer reads it: its translations on the
        entries of the addon's .pot (module and occurrences), since a pending
        file is plain msgid/msgstr pairs. Entries the .pot does not list yet
        are left out."""
        pot = polib.pofile(str(path.parent.parent / "sales_funnel.pot"))
        translated = {
            entry.msgid: entry.msgstr
            for entry in polib.pofile(str(path))
            if entry.msgstr and not entry.obsolete
        }
        merged = polib.POFile()
        merged.metadata = pot.metadata
        for entry in pot:
            if entry.msgid in translated:
                entry.msgstr = translated[entry.msgid]
                merged.append(entry)
        fileobj = tempfile.NamedTemporaryFile(suffix=".pot")  # noqa: SIM115
        fileobj.write(str(merged).encode())
        fileobj.seek(0)
        return fileobj

    def _require_pdf_tools(self):
        # A missing tool fails the test (never skips it), saying what to install.
        state = self.env["ir.actions.report"].get_wkhtmltopdf_state()
        if state != "ok":
            self.fail(
                f"Odoo cannot print PDF (wkhtmltopdf state: {state}): install the "
                f"Debian package wkhtmltopdf (apt-get install {PDF_PACKAGES}), "
                "then restart Odoo."
            )
        for tool in ("pdftotext", "pdffonts"):
            if not shutil.which(tool):
                self.fail(
                    f"{tool} is missing: install the Debian package poppler-utils "
                    f"(apt-get install {PDF_PACKAGES})."
                )

    def _render_pdf(self, report_ref, records, lang, user=None):
        """The PDF bytes of ``report_ref`` for ``records``, printed in ``lang``."""
        self._require_pdf_tools()
        report = (
            self.env["ir.actions.report"]
            .with_user(user or self.env.user)
            .with_context(
                lang=lang, force_report_rendering=True, report_pdf_no_attachment=True
            )
        )
        pdf, kind = report._render_qweb_pdf(report_ref, records.ids)
        self.assertEqual(kind, "pdf", f"{report_ref} was not printed as a PDF")
        self.assertTrue(pdf.startswith(b"%PDF"), f"{report_ref} is not a PDF")
        return pdf

    def _pdf_run(self, tool, pdf, *args):
        result = subprocess.run(
            [tool, *args, "-", "-"] if tool == "pdftotext" else [tool, *args, "-"],
            input=pdf,
            capture_output=True,
            check=False,
            timeout=60,
        )
        self.assertEqual(
            result.returncode, 0, f"{tool}: {result.stderr.decode(errors='replace')}"
        )
        return result.stdout.decode("utf-8", errors="replace")

    def _pdf_text(self, pdf):
        """The text of a PDF, as a reader sees it on the page."""
        text = self._pdf_run("pdftotext", pdf, "-enc", "UTF-8")
        return KANGXI_RADICALS.sub(
            lambda match: unicodedata.normalize("NFKC", match.group()), text
        )

    def _pdf_fonts(self, pdf):
        """The names of the fonts a PDF embeds or uses."""
        lines = self._pdf_run("pdffonts", pdf).splitlines()[2:]  # after the header
        return {line.split()[0] for line in lines if line.strip()}

    def _assert_chinese_font(self, pdf):
        """The Chinese of ``pdf`` is drawn with Noto Sans CJK SC: no boxes, and
        not the Japanese forms of the characters."""
        fonts = self._pdf_fonts(pdf)
        self.assertTrue(
            any(font.startswith("NotoSansCJKsc") for font in fonts),
            "The Chinese of the PDF is not drawn with Noto Sans CJK SC (fonts: "
            f"{', '.join(sorted(fonts))}): install the Debian package fonts-noto-cjk, "
            "and print the page through sales_funnel.report_page.",
        )
        self.assertFalse(
            [font for font in fonts if font.startswith("NotoSansCJKjp")],
            "Chinese drawn with the Japanese forms of the characters",
        )

    def _report_text(self, report_ref, records, lang, user=None):
        """The text of ``report_ref`` printed in ``lang`` for ``records``."""
        return self._pdf_text(self._render_pdf(report_ref, records, lang, user=user))
