"""``list``: a table of exercises (rich), or the same rows as JSON."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from backprop_cli.authoring.catalog import CatalogRow
from backprop_cli.source.errors import printable

VERSION = 1


def _tests(row: CatalogRow) -> Text:
    if row.tests_broken:
        return Text("unreadable", style="red")
    if row.tests_total == 0:
        return Text("none", style="dim")
    style = "green" if row.tests_passed == row.tests_total else "red"
    return Text(f"{row.tests_passed}/{row.tests_total} pass", style=style)


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


def catalog_table(rows: list[CatalogRow]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("id", "title", "asks", "tensors", "training", "variants", "question tests"):
        table.add_column(column, justify="right" if column == "asks" else "left")
    for row in rows:
        if row.error is not None:
            table.add_row(Text(printable(row.file)), Text(printable(row.error), style="red"), "", "", "", "", "")
            continue
        table.add_row(Text(row.id or ""), Text(printable(row.title or "")), str(row.asks), _yes(row.tensors),
                      _yes(row.training), _yes(row.variants), _tests(row))
    return table


def catalog_document(rows: list[CatalogRow]) -> dict:
    return {"version": VERSION, "exercises": [{
        "file": r.file, "id": r.id, "title": r.title, "asks": r.asks, "tensors": r.tensors,
        "training": r.training, "variants": r.variants,
        "tests": {"passed": r.tests_passed, "total": r.tests_total, "readable": not r.tests_broken},
        "error": r.error} for r in rows]}
