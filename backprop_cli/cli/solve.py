"""``backprop solve``: the answer key, in the answers-file format."""

from __future__ import annotations

import click

from backprop_cli.cli.common import friendly_errors


@click.command()
@click.argument("file", type=click.Path())
@click.option("--all", "every", is_flag=True,
              help="Every step's value and the loss's gradient for every given, not just the asked keys.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True)
@friendly_errors
def solve(file: str, every: bool, fmt: str) -> None:
    """Print the correct answers of FILE's asked keys.

    Each value is exact when its exact form is short (at most 60 characters:
    -2, 3/2, exp(-1)/(1 + exp(-1))**2); a longer one (a deep sigmoid network's)
    is printed in decimal to 15 significant digits, which check accepts within
    the exercise's tolerance.  The YAML output is an answers file:
    `backprop check FILE --answers key.yaml` reads it back.
    """
    from backprop_cli.grading import pipeline

    solved = pipeline.solve(file, every)
    if fmt == "json":
        from backprop_cli.render.jsonout import dumps, solved_document

        click.echo(dumps(solved_document(solved.keys)))
    else:
        from backprop_cli.render.keyfile import answers_yaml

        click.echo(answers_yaml(solved.keys, solved.exercise.id), nl=False)
