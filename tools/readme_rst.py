#!/usr/bin/env python3
"""Build sales_funnel/README.rst from the readme/*.md fragments (OCA layout).

python3 tools/readme_rst.py          # rewrite README.rst
python3 tools/readme_rst.py --check  # exit 1 when README.rst is stale
"""

import pathlib
import re
import sys

ADDON = pathlib.Path(__file__).resolve().parent.parent / "sales_funnel"
HEAD = """============
Sales Funnel
============

.. |badge1| image:: https://img.shields.io/badge/licence-AGPL--3-blue.png
    :target: http://www.gnu.org/licenses/agpl-3.0-standalone.html
    :alt: License: AGPL-3

|badge1|

"""


def table(lines):
    """A Markdown pipe table as an RST list-table."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in lines
        if not re.fullmatch(r"\|?[\s|:-]+\|?", line.strip())
    ]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        out.append(f"   * - {row[0]}")
        out.extend(f"     - {cell}" for cell in row[1:])
    return out


def inline(line):
    """`code` becomes ``code``; a bare | is escaped (RST substitutions)."""
    parts = re.split(r"(?<!`)`([^`]+)`(?!`)", line)
    return "".join(
        f"``{part}``" if index % 2 else part.replace("|", "\\|")
        for index, part in enumerate(parts)
    )


def to_rst(markdown):
    out, pending = [], []
    for line in markdown.splitlines():
        if line.lstrip().startswith("|"):
            pending.append(line)
            continue
        if pending:
            out.extend(table(pending))
            pending = []
        out.append(inline(line))
    if pending:
        out.extend(table(pending))
    return "\n".join(out).strip() + "\n"


def section(title, body, underline="="):
    return f"{title}\n{underline * len(title)}\n\n{body}\n"


def build():
    fragment = {
        name: to_rst((ADDON / "readme" / f"{name}.md").read_text())
        for name in ("DESCRIPTION", "CONFIGURE", "USAGE", "CONTRIBUTORS")
    }
    return (
        HEAD
        + fragment["DESCRIPTION"]
        + "\n**Table of contents**\n\n.. contents::\n   :local:\n\n"
        + section("Configuration", fragment["CONFIGURE"])
        + "\n"
        + section("Usage", fragment["USAGE"])
        + "\n"
        + section("Credits", section("Contributors", fragment["CONTRIBUTORS"], "-"))
    )


def main():
    target = ADDON / "README.rst"
    text = build()
    if "--check" in sys.argv[1:]:
        if target.read_text() != text:
            sys.exit("sales_funnel/README.rst is stale: run tools/readme_rst.py")
        return
    target.write_text(text)


if __name__ == "__main__":
    main()
