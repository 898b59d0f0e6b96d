"""Pages made from files outside docs/: the benchmark table and chart, the changelog.

Sphinx here reads reStructuredText only (no Markdown parser is required), so the Markdown
files that live at the repository root or are written by ``python -m benchmarks`` are
converted into small .rst fragments that the pages include. The converters handle the
Markdown these files use (headings, bullet lists, tables, code spans, links), nothing more.
"""

from __future__ import annotations

import os
import re

_CODE_OR_LINK = re.compile(r"(`[^`]+`|\[[^\]]+\]\([^)]+\))")


def inline(text: str) -> str:
    """Markdown inline markup as reStructuredText: code spans, links, escaped specials."""
    out = []
    for part in _CODE_OR_LINK.split(text):
        if part.startswith("`") and part.endswith("`"):
            out.append(f"``{part[1:-1]}``")
        elif part.startswith("[") and part.endswith(")"):
            label, url = re.match(r"\[([^\]]+)\]\(([^)]+)\)", part).groups()
            out.append(f"`{label} <{url}>`__")
        else:
            part = part.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")
            out.append(re.sub(r"_(?=\W|$)", r"\\_", part))
    return "".join(out)


def markdown_to_rst(markdown: str) -> str:
    """Headings (#, ##, ###), paragraphs and '-' bullet lists with indented continuations."""
    underline = {1: "=", 2: "-", 3: "~"}
    lines = []
    for raw in markdown.splitlines():
        heading = re.match(r"^(#{1,3}) (.*)$", raw)
        if heading:
            title = inline(heading.group(2).strip())
            lines += ["", title, underline[len(heading.group(1))] * len(title), ""]
        else:
            lines.append(inline(raw.rstrip()))
    return "\n".join(lines).strip() + "\n"


def table_to_rst(markdown: str) -> str:
    """The first Markdown table of ``markdown`` as a list-table; other lines as paragraphs.
    Cells of the reference column are code (they hold Python expressions)."""
    rows, text = [], []
    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-+:?", c) for c in cells):
                rows.append(cells)
        elif line.strip():
            text.append(inline(line.strip()))
    if not rows:
        return "\n\n".join(text) + "\n"
    header, body = rows[0], rows[1:]
    code_columns = {i for i, name in enumerate(header) if name == "reference"}
    out = ["\n\n".join(text), "", ".. list-table::", "   :header-rows: 1", ""]
    for row in [header, *body]:
        for i, cell in enumerate(row):
            if row is not header and i in code_columns and cell:
                cell = f"``{cell}``"
            else:
                cell = inline(cell)
            out.append(f"   {'* -' if i == 0 else '  -'} {cell}".rstrip())
    return "\n".join(out) + "\n"


def write_generated_pages(root: str, out: str) -> None:
    """Write ``benchmarks_table.rst``, ``benchmarks.png`` and ``changelog.rst`` into ``out``."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(root, "docs", "benchmarks.md"), encoding="utf-8") as fh:
        bench = fh.read()
    _write(os.path.join(out, "benchmarks_table.rst"), table_to_rst(bench))
    with open(os.path.join(root, "CHANGELOG.md"), encoding="utf-8") as fh:
        _write(os.path.join(out, "changelog.rst"), markdown_to_rst(fh.read()))
    from benchmarks.run import bar_chart  # the chart of ``python -m benchmarks`` itself

    bar_chart(benchmark_rows(bench), os.path.join(out, "benchmarks.png"))


def benchmark_rows(markdown: str) -> list[dict]:
    """The timed rows of the table written by ``python -m benchmarks``."""
    rows = []
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("case", "---"):
            try:
                rows.append({"case": cells[0], "ours_s": float(cells[1]),
                             "ref_name": cells[2], "ref_s": float(cells[3])})
            except ValueError:
                continue
    return rows


def _write(path: str, text: str) -> None:
    """Write only when the text changed, so Sphinx does not rebuild unchanged pages."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
