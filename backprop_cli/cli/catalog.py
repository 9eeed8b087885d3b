"""``backprop list``: a table of the exercises in a folder."""

from __future__ import annotations

import sys

import click

from backprop_cli.cli.common import EXIT_OK, EXIT_UNUSABLE, color_option, friendly_errors


@click.command("list")
@click.argument("folder", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@color_option
@friendly_errors
def catalog(folder: str, fmt: str, color: bool | None) -> None:
    """List the exercises in FOLDER: id, title, number of asks, whether they use tensors,
    training or per-student variants, and how many question tests pass.

    Exit code 0 when every file can be used and every question test passes, else 2.
    """
    from backprop_cli.authoring.catalog import catalog as rows_of

    rows = rows_of(folder)
    if fmt == "json":
        from backprop_cli.render.catalog import catalog_document
        from backprop_cli.render.jsonout import dumps

        click.echo(dumps(catalog_document(rows)))
    else:
        from backprop_cli.render.catalog import catalog_table
        from backprop_cli.render.console import make_console

        if rows:
            make_console(color).print(catalog_table(rows))
        else:
            click.echo(f"{folder}: no exercise files (*.yaml, *.yml)")
    healthy = all(r.error is None and not r.tests_broken and r.tests_passed == r.tests_total for r in rows)
    sys.exit(EXIT_OK if healthy else EXIT_UNUSABLE)
