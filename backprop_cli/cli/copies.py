"""``backprop blank`` and ``backprop variant``: students' copies of an exercise."""

from __future__ import annotations

import click

from backprop_cli.cli.common import friendly_errors

_OUT = click.option("-o", "--output", "out", metavar="OUT", help="Write the copy to OUT (default: print it).")
_FORCE = click.option("--force", is_flag=True, help="Overwrite OUT if it exists.")


def _hand_over(text: str, out: str | None, force: bool, source: str) -> None:
    from backprop_cli.authoring.copies import write_copy

    if out is None or out == "-":
        click.echo(text, nl=False)
    else:
        write_copy(text, out, force, source)
        click.echo(f"wrote {out}", err=True)


@click.command()
@click.argument("file", type=click.Path())
@_OUT
@_FORCE
@friendly_errors
def blank(file: str, out: str | None, force: bool) -> None:
    """Write the student's copy of FILE: every answer cleared, with a comment saying what
    each key means; the question tests and the teacher's answers and comments left out."""
    from backprop_cli.authoring.copies import blank as blank_copy

    _hand_over(blank_copy(file), out, force, file)


@click.command()
@click.argument("file", type=click.Path())
@click.option("--student", required=True, metavar="ID", help="The student the copy is for.")
@click.option("--salt", default="", metavar="S",
              help="Your secret: without it no one can predict a variant or forge its digest.")
@_OUT
@_FORCE
@friendly_errors
def variant(file: str, student: str, salt: str, out: str | None, force: bool) -> None:
    """Write STUDENT's copy of the template FILE, with values drawn for them.

    The same student id (and salt) gives the same values on every machine. The copy
    records the student id and a digest keyed with the salt: `backprop check --salt S`
    refuses a copy whose givens were edited.
    """
    from backprop_cli.authoring.copies import variant as variant_copy

    _hand_over(variant_copy(file, student, salt), out, force, file)
