"""Data rows streamed into an xlsxwriter worksheet as ready-made XML.

In constant-memory mode xlsxwriter spends about 10 µs of Python on each cell
(a cell tuple, attribute lists, several regexes, one file write): at 100,000
rows of 10 columns that was most of the export's time. Here each cell's XML is
rendered by a small per-column function (a value seen before costs one dict
look-up) and a batch of rows is written at once, into the temporary file
xlsxwriter itself copies into the sheet. The XML is byte for byte what the
worksheet's write_string / write_number / write_datetime / write_boolean write
(tests/test_xlsx_export.py compares both on awkward values), with one
deliberate difference: a string looking like rich text ("<r>...</r>") is
escaped like any other, where xlsxwriter would copy it raw into the XML.

It reads a few private attributes of xlsxwriter's Worksheet (3.x): `usable()`
says whether they are there, otherwise the caller writes cell by cell.
"""

import math
import re

from xlsxwriter.utility import datetime_to_excel_datetime, xl_col_to_name

STRING_MAX = 32767  # Excel's limit; xlsxwriter truncates longer strings
# Anything that makes a string need more than copying into <t>...</t>.
SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
ESCAPED_LITERAL = re.compile(r"(_x[0-9a-fA-F]{4}_)")
CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")


def usable(sheet):
    """Whether rows can be streamed into this worksheet."""
    return (
        sheet.constant_memory
        and not sheet.set_rows
        and all(
            hasattr(sheet, name)
            for name in (
                "row_data_fh",
                "previous_row",
                "xls_rowmax",
                "col_formats",
                "date_1904",
                "remove_timezone",
                "default_date_format",
                "_write_single_row",
                "_check_dimensions",
                "_opt_reopen",
            )
        )
    )


def string_xml(value):
    """The end of an inline string cell, after `<c r="A1"`."""
    if len(value) > STRING_MAX:
        value = value[:STRING_MAX]
    if SPECIAL.search(value):
        value = ESCAPED_LITERAL.sub(r"_x005F\1", value)
        value = CONTROL.sub(lambda match: f"_x{ord(match.group(1)):04X}_", value)
        value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if value[:1].isspace() or value[-1:].isspace():
        return f' t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
    return f' t="inlineStr"><is><t>{value}</t></is></c>'


def _style(sheet, col, cell_format):
    """The cell's ` s="n"` attribute; asked for at the first cell written, as
    xlsxwriter does (format indexes are numbered in order of first use)."""
    cell_format = cell_format or sheet.col_formats.get(col)
    return f' s="{cell_format._get_xf_index()}"' if cell_format else ""


def string_cells(sheet, col, label=str):
    """Renderer of a text column: `label(value)` is the text (values seen
    before are rendered once)."""
    cache = {}

    def render(value):
        xml = cache.get(value)
        if xml is None:
            text = label(value)
            xml = cache[value] = _style(sheet, col, None) + string_xml(text)
        return xml

    return render


def text_cells(sheet, col):
    """Renderer of free text (mostly distinct values: no cache)."""
    style = None

    def render(value):
        nonlocal style
        if style is None:
            style = _style(sheet, col, None)
        return style + string_xml(value if type(value) is str else str(value))

    return render


def number_cells(sheet, col, cell_format):
    prefix = None

    def render(value):
        nonlocal prefix
        number = float(value)
        if not math.isfinite(number):
            # xlsxwriter refuses NaN and infinities; an empty cell instead.
            return ""
        if prefix is None:
            prefix = _style(sheet, col, cell_format) + "><v>"
        return f"{prefix}{number:.16G}</v></c>"

    return render


def date_cells(sheet, col, cell_format):
    prefix = None

    def render(value):
        nonlocal prefix
        number = datetime_to_excel_datetime(
            value, sheet.date_1904, sheet.remove_timezone
        )
        if prefix is None:
            prefix = _style(sheet, col, cell_format or sheet.default_date_format)
            prefix += "><v>"
        return f"{prefix}{number:.16G}</v></c>"

    return render


def boolean_cells(sheet, col):
    xml = {}

    def render(value):
        value = bool(value)
        if value not in xml:
            xml[value] = _style(sheet, col, None) + f' t="b"><v>{int(value)}</v></c>'
        return xml[value]

    return render


class RowStream:
    """Writes rows of values from `first_row` on: `renders[col](value)` gives a
    cell's XML after `<c r="A1"`, or "" for an empty cell (None values are
    empty cells). Rows past Excel's last row are dropped, as xlsxwriter does."""

    def __init__(self, sheet, first_row, renders):
        self.sheet = sheet
        self.row = first_row
        self.renders = renders
        self.refs = [xl_col_to_name(col) for col in range(len(renders))]
        self.last = None
        # xlsxwriter keeps its current row in memory until a later row is
        # written: write it out first, rows go to the file in order.
        sheet._opt_reopen()
        sheet._write_single_row(first_row)

    def add(self, rows):
        lines = []
        row = self.row
        row_max = self.sheet.xls_rowmax
        columns = list(zip(self.refs, self.renders, strict=True))
        for values in rows:
            if row >= row_max:
                break
            r = str(row + 1)
            cells = "".join(
                [
                    f'<c r="{ref}{r}"{xml}'
                    for (ref, render), value in zip(columns, values, strict=True)
                    if value is not None and (xml := render(value))
                ]
            )
            if cells:
                lines.append(f'<row r="{r}">{cells}</row>')
                self.last = row
            row += 1
        self.row += len(rows)
        if lines:
            self.sheet.row_data_fh.write("".join(lines))

    def close(self):
        """Tell the worksheet which rows were written (its dimension, and
        where its own writes may go on)."""
        sheet = self.sheet
        if self.last is not None:
            sheet._check_dimensions(self.last, 0)
        sheet.previous_row = max(sheet.previous_row, min(self.row, sheet.xls_rowmax))
