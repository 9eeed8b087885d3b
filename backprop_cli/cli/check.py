"""``backprop check``: grade answers, name what is wrong, show the way to the right answer."""

from __future__ import annotations

import sys

import click

from backprop_cli.cli.common import (EXIT_UNUSABLE, color_option, debug_enabled, friendly_errors,
                                     print_problems)

FORMATS = ["text", "json"]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--answers", "answers_path", type=click.Path(),
              help="Read answers from this YAML file (key: answer) instead of the exercise's 'answers:'.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--time-limit", type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Time allowed for grading one answer (default 2).")
@click.option("--memory-limit", type=click.IntRange(min=256), metavar="MB",
              help="Memory grading may use on top of what the process has at start (default 4096).")
@color_option
@friendly_errors
def check(files: tuple[str, ...], answers_path: str | None, fmt: str, time_limit: float | None,
          memory_limit: int | None, color: bool | None) -> None:
    """Grade the answers in each exercise FILE.

    Exit code 0 when every asked answer is correct, 1 when some answer is
    incorrect, missing or invalid, 2 when a file cannot be used (the other
    files are still graded).
    """
    from backprop_cli.errors import BackpropError
    from backprop_cli.limits import DEFAULT
    from backprop_cli.results import exit_code
    from backprop_cli.sandbox import check_files_bounded, with_limits

    answers = answers_for = None
    if answers_path is not None:
        try:
            answers, answers_for = _load_answers(answers_path)
        except BackpropError as err:
            print_problems(err.problems)
            sys.exit(EXIT_UNUSABLE)
    limits = with_limits(DEFAULT, time_limit, memory_limit)
    graded = check_files_bounded(list(files), answers, answers_for, limits)
    if debug_enabled():
        for _, crash in graded:
            if crash is not None:
                raise crash
    results = [result for result, _ in graded]
    if fmt == "json":
        from backprop_cli.render.jsonout import check_document, dumps

        click.echo(dumps(check_document(results)))
    else:
        _print_text(results, color)
    sys.exit(exit_code(results))


def _load_answers(path: str):
    from backprop_cli.errors import BackpropError
    from backprop_cli.yamlsrc import YMapping, YScalar, load_file, node_problem

    root = load_file(path)
    if not isinstance(root, YMapping):
        raise BackpropError(node_problem(root, "an answers file is a YAML mapping of key: answer"))
    node = root.get("exercise")
    if node is not None and not (isinstance(node, YScalar) and not node.is_null):
        raise BackpropError(node_problem(node, "'exercise' names the exercise id"))
    return root, (node.text.strip() if node is not None else None)


def _print_text(results, color) -> None:
    from rich.text import Text

    from backprop_cli.render.console import make_console
    from backprop_cli.render.terminal import report_group

    console = make_console(color)
    for i, result in enumerate(results):
        if i:
            console.print()
        console.print(report_group(result))
    if len(results) > 1:
        score = sum(r.score for r in results)
        top = sum(r.max_score for r in results)
        console.print(Text(f"\nTotal: {score:g}/{top:g} over {len(results)} files", style="bold"))
