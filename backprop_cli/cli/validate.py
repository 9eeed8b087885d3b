"""``backprop validate``: check exercise files and prove their answer keys, without grading."""

from __future__ import annotations

import sys

import click

from backprop_cli.cli.common import friendly_errors


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 2).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format; json is for CI.")
@friendly_errors
def validate(files: tuple[str, ...], strict: bool, fmt: str) -> None:
    """Check each exercise FILE: format, names, expressions, domains and asks; then prove
    the answer key (the engine against sympy.diff and finite differences), run the
    question tests, and warn about kinks, unused givens, degenerate exercises, answers
    that give each other away and unwieldy decimals.

    Exit code 0 when no file has an error (with --strict: nor a warning), else 2.
    """
    from backprop_cli.authoring.validation import exit_code, validate_files
    from backprop_cli.render.validation import finding_lines, summary_line, validation_document

    results = validate_files(list(files))
    if fmt == "json":
        from backprop_cli.render.jsonout import dumps

        click.echo(dumps(validation_document(results, strict)))
    else:
        for result in results:
            for text in finding_lines(result):
                click.echo(text, err=True)
            line = summary_line(result, strict)
            if line is not None:
                click.echo(line)
    sys.exit(exit_code(results, strict))
