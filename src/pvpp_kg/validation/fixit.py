"""The fix-it spreadsheet: the user's own workbook back, each failing cell highlighted with a comment carrying the
message in lv and en and the rule, and a sheet ``results`` listing every result with its sheet, row and column
(the results no cell made — "the institution has no service-portfolio owner" — are listed there too).

The reader skips the ``results`` sheet, so the fixed workbook can be uploaded as it is.
"""

from __future__ import annotations

import io

from pvpp_kg.validation.report import Report, Result, severity_label

RESULTS_SHEET = "results"
_COLOURS = {"Violation": "FFC7CE", "Warning": "FFEB9C", "Info": "DDEBF7"}


def _comment_text(results: list[Result]) -> str:
    parts = []
    for r in results:
        parts.append(
            f"{severity_label(r.severity, 'lv')} / {r.severity} — {r.rule}\n"
            f"lv: {r.messages.get('lv', '')}\nen: {r.messages.get('en', '')}"
        )
    return "\n\n".join(parts)


def fixit_workbook(data: bytes, report: Report) -> bytes:
    """``data`` (an XLSX the reader accepted, or whose cells it refused) with the report's results marked in it."""
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    wb = load_workbook(io.BytesIO(data))
    cells: dict[tuple[str, int, int], list[Result]] = {}
    for r in report.results:
        if r.sheet and r.row and r.column_number and r.sheet in wb.sheetnames:
            cells.setdefault((r.sheet, r.row, r.column_number), []).append(r)
    for (sheet, row, column), results in cells.items():
        cell = wb[sheet].cell(row=row, column=column)
        worst = min(results, key=lambda r: ("Violation", "Warning", "Info").index(r.severity)).severity
        cell.fill = PatternFill("solid", fgColor=_COLOURS.get(worst, "FFC7CE"))
        comment = Comment(_comment_text(results), "pvpp-kg")
        comment.width, comment.height = 420, 60 + 90 * len(results)
        cell.comment = comment
    if RESULTS_SHEET in wb.sheetnames:
        del wb[RESULTS_SHEET]
    ws = wb.create_sheet(RESULTS_SHEET, 0)
    ws.append(
        [
            "severity / nopietnība",
            "sheet / lapa",
            "row / rinda",
            "column / kolonna",
            "cell / šūna",
            "layer",
            "rule",
            "ziņojums (lv)",
            "message (en)",
            "node",
            "path",
            "value",
        ]  # fmt: skip
    )
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in report.results:
        ws.append(
            [
                f"{severity_label(r.severity, 'lv')} / {r.severity}",
                r.sheet or "",
                r.row or "",
                r.column or "",
                r.cell or "",
                r.layer,
                r.rule,
                r.messages.get("lv", ""),
                r.messages.get("en", ""),
                r.focus,
                r.path or "",
                r.value or "",
            ]
        )
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKL", (22, 14, 8, 20, 14, 10, 40, 60, 60, 50, 40, 30), strict=True):
        ws.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
