"""``backprop check``: grade answers, name what is wrong, show the way to the right answer."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import click

from backprop_cli.cli.common import color_option, debug_enabled, friendly_errors, print_problems

FORMATS = ["text", "json", "junit", "gradescope", "classroom", "github", "markdown", "html"]
TRACED = ("text", "markdown", "gradescope", "html")  # the formats that show the way to a right answer


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--answers", "answers_paths", type=click.Path(), multiple=True,
              help="Read answers from this YAML file (key: answer) instead of the exercise's 'answers:'.")
@click.option("--key", "key_path", type=click.Path(), metavar="KEY",
              help="Grade the answers against the teacher's exercises in this folder, matched by id "
                   "or file name; FILES may then be folders.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the output to FILE (replaced in one step) instead of printing it.")
@click.option("--base64", "as_base64", is_flag=True,
              help="With --format classroom: print 'result=BASE64' for $GITHUB_OUTPUT.")
@click.option("-v", "--verbose", is_flag=True,
              help="For each wrong answer, the whole slice of the trace that leads to it "
                   "(default: only the way to the first wrong entry).")
@click.option("--max-lines", type=click.IntRange(min=0), default=0, metavar="N",
              help="Print at most N lines of text (0: no limit), e.g. to keep CI logs short.")
@click.option("--watch", is_flag=True,
              help="Grade again each time a FILE (or the answers file) is saved; Ctrl-C stops.")
@click.option("--time-limit", type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Time allowed for grading one answer (default 2).")
@click.option("--memory-limit", type=click.IntRange(min=256), metavar="MB",
              help="Memory grading may use on top of what the process has at start (default 4096).")
@click.option("--salt", metavar="S",
              help="The salt the variants were made with: refuse a student's copy whose givens were edited.")
@color_option
@friendly_errors
def check(files: tuple[str, ...], answers_paths: tuple[str, ...], key_path: str | None, fmt: str,
          output: str | None, as_base64: bool, verbose: bool, max_lines: int, watch: bool,
          time_limit: float | None, memory_limit: int | None, salt: str | None, color: bool | None) -> None:
    """Grade the answers in each exercise FILE.

    Exit code 0 when every asked answer is correct, 1 when some answer is
    incorrect, missing or invalid, 2 when a file cannot be used (the other
    files are still graded).  With --salt, a student's variant whose givens
    were edited cannot be used.
    """
    from backprop_cli.grading.runner import with_limits
    from backprop_cli.source.limits import DEFAULT

    answers_path = _one_answers_file(files, answers_paths)
    if as_base64 and fmt != "classroom":
        raise click.UsageError("--base64 goes with --format classroom")
    if key_path is not None and (answers_path is not None or salt is not None):
        raise click.UsageError("--key grades the answers in FILES against the key; it takes neither "
                               "--answers nor --salt")
    if watch and (fmt != "text" or output is not None):
        raise click.UsageError("--watch shows the text report; leave out --format and --output")
    limits = with_limits(DEFAULT, time_limit, memory_limit)
    options = _Run(files, answers_path, key_path, fmt, output, as_base64, verbose, max_lines, limits,
                   salt, color)
    if watch:
        _watch(options, list(files) + ([answers_path] if answers_path else []))
        sys.exit(0)
    sys.exit(_grade(options))


@dataclass(frozen=True)
class _Run:
    """One grading run's options, as the command line gave them."""

    files: tuple[str, ...]
    answers_path: str | None
    key_path: str | None
    fmt: str
    output: str | None
    as_base64: bool
    verbose: bool
    max_lines: int
    limits: object
    salt: str | None
    color: bool | None


def _grade(o: _Run) -> int:
    """Grade and show the result once; the exit code."""
    from backprop_cli.grading import pipeline
    from backprop_cli.grading.results import Detail
    from backprop_cli.source.errors import BackpropError

    traces = o.fmt in TRACED
    detail = Detail.FOCUSED if o.fmt == "text" and not o.verbose else Detail.FULL  # pages have room
    if o.key_path is not None:
        run = pipeline.check_with_key(o.key_path, list(o.files), o.limits, traces=traces,
                                      pictures=o.fmt == "html")
    else:
        answers = None
        if o.answers_path is not None:
            try:
                answers = pipeline.load_answers(o.answers_path)
            except BackpropError as err:  # said here; each exercise is reported ungraded, its points counted
                print_problems(err.problems)
                answers = pipeline.Answers.unreadable(o.answers_path)
        run = pipeline.check(list(o.files), answers, o.limits, pictures=o.fmt == "html", salt=o.salt,
                             traces=traces, detail=detail)
    if debug_enabled() and run.crashes:
        raise run.crashes[0]
    _show(run, o.fmt, o.output, o.as_base64, o.color, o.max_lines)
    return run.exit_code


def _watch(o: _Run, paths: list[str]) -> None:
    """Grade again at every save, the screen cleared between runs, until Ctrl-C."""
    from backprop_cli.cli.watch import watch
    from backprop_cli.render.console import make_console

    console = make_console(o.color)

    def again() -> None:
        if console.is_terminal:
            console.clear()
        _grade(o)
        console.print(f"\nWatching {', '.join(paths)}: saved changes are graded again (Ctrl-C stops).",
                      style="dim", markup=False, highlight=False)

    watch(paths, again)


def _one_answers_file(files: tuple[str, ...], answers_paths: tuple[str, ...]) -> str | None:
    """The one --answers file; two of them, or an answers file among the exercises, is an error
    (rather than the last one winning, or an answers file graded as an exercise)."""
    from backprop_cli.grading.pipeline import is_answers_file

    if len(answers_paths) > 1:
        raise click.UsageError(f"--answers is given {len(answers_paths)} times ({', '.join(answers_paths)}); "
                               "check reads one answers file: run it once for each")
    if answers_paths:
        for path in files:
            if not os.path.isdir(path) and is_answers_file(path):
                raise click.UsageError(
                    f"{path} is an answers file, not an exercise: --answers takes one file "
                    f"({answers_paths[0]}); run check again with --answers {path} to grade it")
    return answers_paths[0] if answers_paths else None


def _show(run, fmt: str, output: str | None, as_base64: bool, color: bool | None,
          max_lines: int = 0) -> None:
    from backprop_cli.cli.output import append_step_summary, emit, emit_pieces

    if fmt == "text":
        _print_text(run, color, output, max_lines)
        return
    if fmt == "json":
        from backprop_cli.render.jsonout import check_pieces

        emit_pieces(check_pieces(run.results, run.notes), output)  # written as it is encoded
        return
    if fmt in ("gradescope", "classroom") and not as_base64:
        from backprop_cli.render.jsonout import pieces

        emit_pieces(pieces(_document(run, fmt)), output)
        return
    if fmt == "junit":
        from backprop_cli.render.junit import junit_xml

        text = junit_xml(run.results, notes=run.notes)
    elif fmt == "classroom":
        from backprop_cli.render.classroom import step_output

        text = step_output(_document(run, fmt))
    elif fmt == "html":
        from backprop_cli.render.html import check_page

        text = check_page(run.results)
    elif fmt == "github":
        from backprop_cli.render.github import workflow_commands
        from backprop_cli.render.markdown_report import check_markdown

        text = workflow_commands(run.results, run.notes)
        append_step_summary(check_markdown(run.results, run.notes))
    else:
        from backprop_cli.render.markdown_report import check_markdown

        text = check_markdown(run.results, run.notes)
    emit(text, output)


def _document(run, fmt: str) -> dict:
    """The JSON document of a JSON format."""
    if fmt == "gradescope":
        from backprop_cli.render.gradescope import gradescope_document

        return gradescope_document(run.results, run.notes)
    if fmt == "classroom":
        from backprop_cli.render.classroom import classroom_document

        return classroom_document(run.results)
    from backprop_cli.render.jsonout import check_document

    return check_document(run.results, run.notes)


def _print_text(run, color, output: str | None, max_lines: int = 0) -> None:
    """The text report, on the terminal or into ``output``, at most ``max_lines`` long."""
    import io

    from rich.text import Text

    from backprop_cli.cli.output import write_atomic
    from backprop_cli.render.console import make_console, print_capped
    from backprop_cli.render.terminal import report_group, score_text

    buffer = io.StringIO() if output is not None else None
    console = make_console(False, file=buffer) if buffer is not None else make_console(color)
    parts = []
    for i, result in enumerate(run.results):
        parts += [Text("")] if i else []
        parts.append(report_group(result, console.width))
    if len(run.results) > 1:
        parts.append(Text(f"\nTotal: {score_text(run.score)}/{score_text(run.max_score)} over "
                          f"{len(run.results)} files", style="bold"))
    parts += [Text(f"Not used: {note}", style="yellow") for note in run.notes]
    print_capped(console, parts, max_lines)
    if buffer is not None:
        write_atomic(output, buffer.getvalue())
