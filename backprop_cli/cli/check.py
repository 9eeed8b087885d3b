"""``backprop check``: grade answers, name what is wrong, show the way to the right answer."""

from __future__ import annotations

import sys

import click

from backprop_cli.cli.common import (EXIT_UNUSABLE, color_option, debug_enabled, friendly_errors,
                                     print_problems)

FORMATS = ["text", "json", "html"]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--answers", "answers_paths", type=click.Path(), multiple=True,
              help="Read answers from this YAML file (key: answer) instead of the exercise's 'answers:'.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("-v", "--verbose", is_flag=True,
              help="For each wrong answer, the whole slice of the trace that leads to it "
                   "(default: only the way to the first wrong entry).")
@click.option("--watch", is_flag=True,
              help="Grade again each time a FILE (or the answers file) is saved; Ctrl-C stops.")
@click.option("--max-lines", type=click.IntRange(min=0), default=0, metavar="N",
              help="Print at most N lines of text (0: no limit), e.g. to keep CI logs short.")
@click.option("--time-limit", type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Time allowed for grading one answer (default 2).")
@click.option("--memory-limit", type=click.IntRange(min=256), metavar="MB",
              help="Memory grading may use on top of what the process has at start (default 4096).")
@click.option("--salt", metavar="S",
              help="The salt the variants were made with: refuse a student's copy whose givens were edited.")
@color_option
@friendly_errors
def check(files: tuple[str, ...], answers_paths: tuple[str, ...], fmt: str, verbose: bool, watch: bool,
          max_lines: int, time_limit: float | None, memory_limit: int | None, salt: str | None,
          color: bool | None) -> None:
    """Grade the answers in each exercise FILE.

    Exit code 0 when every asked answer is correct, 1 when some answer is
    incorrect, missing or invalid, 2 when a file cannot be used (the other
    files are still graded).  With --salt, a student's variant whose givens
    were edited cannot be used.
    """
    answers_path = _one_answers_file(files, answers_paths)
    if watch:
        if fmt != "text":
            raise click.UsageError("--watch shows the text report; leave out --format")
        from backprop_cli.cli.watch import watch as watch_files
        from backprop_cli.render.console import make_console

        console = make_console(color)
        paths = list(files) + ([answers_path] if answers_path else [])

        def again() -> None:
            if console.is_terminal:
                console.clear()
            _grade(files, answers_path, fmt, verbose, max_lines, time_limit, memory_limit, salt, color)
            console.print(f"\nWatching {', '.join(paths)}: saved changes are graded again "
                          "(Ctrl-C stops).", style="dim", markup=False, highlight=False)

        watch_files(paths, again)
        sys.exit(0)
    sys.exit(_grade(files, answers_path, fmt, verbose, max_lines, time_limit, memory_limit, salt, color))


def _grade(files, answers_path, fmt, verbose, max_lines, time_limit, memory_limit, salt, color) -> int:
    """Grade and print once; the exit code."""
    from backprop_cli.grading import pipeline
    from backprop_cli.grading.results import Detail
    from backprop_cli.grading.runner import with_limits
    from backprop_cli.source.errors import BackpropError
    from backprop_cli.source.limits import DEFAULT

    answers = None
    if answers_path is not None:
        try:
            answers = pipeline.load_answers(answers_path)
        except BackpropError as err:
            print_problems(err.problems)
            return EXIT_UNUSABLE
    detail = Detail.FULL if verbose or fmt == "html" else Detail.FOCUSED  # a web page has room
    run = pipeline.check(list(files), answers, with_limits(DEFAULT, time_limit, memory_limit),
                         pictures=fmt == "html", salt=salt, detail=detail)
    if debug_enabled() and run.crashes:
        raise run.crashes[0]
    if fmt == "json":
        from backprop_cli.render.jsonout import check_document, dumps

        click.echo(dumps(check_document(run.results)))
    elif fmt == "html":
        from backprop_cli.render.html import check_page

        click.echo(check_page(run.results), nl=False)
    else:
        _print_text(run, color, max_lines)
    return run.exit_code


def _one_answers_file(files: tuple[str, ...], answers_paths: tuple[str, ...]) -> str | None:
    """The one --answers file; two of them, or an answers file among the exercises, is an error
    (rather than the last one winning, or an answers file graded as an exercise)."""
    from backprop_cli.grading.pipeline import is_answers_file

    if len(answers_paths) > 1:
        raise click.UsageError(f"--answers is given {len(answers_paths)} times ({', '.join(answers_paths)}); "
                               "check reads one answers file: run it once for each")
    if answers_paths:
        for path in files:
            if is_answers_file(path):
                raise click.UsageError(
                    f"{path} is an answers file, not an exercise: --answers takes one file "
                    f"({answers_paths[0]}); run check again with --answers {path} to grade it")
    return answers_paths[0] if answers_paths else None


def _print_text(run, color, max_lines: int) -> None:
    from rich.text import Text

    from backprop_cli.render.console import make_console, print_capped
    from backprop_cli.render.terminal import report_group, score_text

    console = make_console(color)
    parts = []
    for i, result in enumerate(run.results):
        if i:
            parts.append(Text(""))
        parts.append(report_group(result, console.width))
    if len(run.results) > 1:
        parts.append(Text(f"\nTotal: {score_text(run.score)}/{score_text(run.max_score)} over "
                          f"{len(run.results)} files", style="bold"))
    print_capped(console, parts, max_lines)
