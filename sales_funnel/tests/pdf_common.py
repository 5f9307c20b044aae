"""Print a QWeb PDF report as a user would, and read its text back.

Odoo's test mode answers a PDF print with the report's HTML: these helpers
force the real rendering, so the PDF goes through wkhtmltopdf, which fetches
the report's styles from the test server (hence ``HttpCase``), and read the
PDF back with poppler's ``pdftotext`` and ``pdffonts``.
"""

import re
import shutil
import subprocess
import unicodedata

from odoo.tests import HttpCase

# What the set-up must install (Debian packages) for printing to work.
PDF_PACKAGES = "wkhtmltopdf fonts-noto-cjk poppler-utils"

# wkhtmltopdf (Qt) maps each glyph back to the lowest code point that uses it:
# in Noto CJK the ideograph 用 shares its glyph with the Kangxi radical ⽤, so the
# PDF's text layer says ⽤ where the page shows 用. The page is right; the text is
# read back as the reader sees it.
KANGXI_RADICALS = re.compile("[\u2e80-\u2fdf]")


class PdfReportCase(HttpCase):
    """A test that prints reports to real PDF and reads them back."""

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
