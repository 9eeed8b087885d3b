"""``backprop validate``: report every problem in exercise files, without grading."""

from __future__ import annotations

import sys

import click

from backprop_cli.cli.common import EXIT_OK, EXIT_UNUSABLE, friendly_errors, print_problems


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@friendly_errors
def validate(files: tuple[str, ...]) -> None:
    """Check each exercise FILE: format, names, expressions, domains and asks."""
    from backprop_cli.source.errors import BackpropError, one_line
    from backprop_cli.autodiff.graph import Role
    from backprop_cli.grading import pipeline

    failed = 0
    for path in files:
        try:
            exercise = pipeline.load(path)
        except BackpropError as err:
            failed += 1
            print_problems(err.problems)
            continue
        steps = sum(1 for n in exercise.graph.nodes if n.role is Role.STEP)
        click.echo(one_line(f"{path}: ok ({steps} steps, {len(exercise.asks)} asked)"))
    sys.exit(EXIT_UNUSABLE if failed else EXIT_OK)
