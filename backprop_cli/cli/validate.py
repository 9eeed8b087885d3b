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
    from backprop_cli.errors import BackpropError
    from backprop_cli.exercise import load_exercise

    failed = 0
    for path in files:
        try:
            exercise = load_exercise(path)
        except BackpropError as err:
            failed += 1
            print_problems(err.problems)
            continue
        steps = sum(1 for n in exercise.graph.nodes if n.role.value == "step")
        click.echo(f"{path}: ok ({steps} steps, {len(exercise.asks)} asked)")
    sys.exit(EXIT_UNUSABLE if failed else EXIT_OK)
