"""``backprop check``: grade answers, name what is wrong, show the way to the right answer."""

from __future__ import annotations

import sys

import click

from backprop_cli.cli.common import color_option, debug_enabled, friendly_errors, print_problems

FORMATS = ["text", "json", "junit", "gradescope", "classroom", "github", "markdown", "html"]
TRACED = ("text", "markdown", "gradescope", "html")  # the formats that show the way to a right answer


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=True))
@click.option("--answers", "answers_path", type=click.Path(),
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
@click.option("--time-limit", type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Time allowed for grading one answer (default 2).")
@click.option("--memory-limit", type=click.IntRange(min=256), metavar="MB",
              help="Memory grading may use on top of what the process has at start (default 4096).")
@click.option("--salt", metavar="S",
              help="The salt the variants were made with: refuse a student's copy whose givens were edited.")
@color_option
@friendly_errors
def check(files: tuple[str, ...], answers_path: str | None, key_path: str | None, fmt: str,
          output: str | None, as_base64: bool, time_limit: float | None, memory_limit: int | None,
          salt: str | None, color: bool | None) -> None:
    """Grade the answers in each exercise FILE.

    Exit code 0 when every asked answer is correct, 1 when some answer is
    incorrect, missing or invalid, 2 when a file cannot be used (the other
    files are still graded).  With --salt, a student's variant whose givens
    were edited cannot be used.
    """
    from backprop_cli.grading import pipeline
    from backprop_cli.grading.runner import with_limits
    from backprop_cli.source.errors import BackpropError
    from backprop_cli.source.limits import DEFAULT

    if as_base64 and fmt != "classroom":
        raise click.UsageError("--base64 goes with --format classroom")
    if key_path is not None and (answers_path is not None or salt is not None):
        raise click.UsageError("--key grades the answers in FILES against the key; it takes neither "
                               "--answers nor --salt")
    limits = with_limits(DEFAULT, time_limit, memory_limit)
    traces = fmt in TRACED
    if key_path is not None:
        run = pipeline.check_with_key(key_path, list(files), limits, traces=traces, pictures=fmt == "html")
    else:
        answers = None
        if answers_path is not None:
            try:
                answers = pipeline.load_answers(answers_path)
            except BackpropError as err:  # said here; each exercise is reported ungraded, its points counted
                print_problems(err.problems)
                answers = pipeline.Answers.unreadable(answers_path)
        run = pipeline.check(list(files), answers, limits, pictures=fmt == "html", salt=salt,
                             traces=traces)
    if debug_enabled() and run.crashes:
        raise run.crashes[0]
    _show(run, fmt, output, as_base64, color)
    sys.exit(run.exit_code)


def _show(run, fmt: str, output: str | None, as_base64: bool, color: bool | None) -> None:
    from backprop_cli.cli.output import append_step_summary, emit, emit_pieces

    if fmt == "text":
        _print_text(run, color, output)
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


def _print_text(run, color, output: str | None) -> None:
    from rich.text import Text

    from backprop_cli.cli.output import print_rich
    from backprop_cli.render.terminal import report_group

    parts = []
    for i, result in enumerate(run.results):
        parts += [Text("")] if i else []
        parts.append(report_group(result))
    if len(run.results) > 1:
        parts.append(Text(f"\nTotal: {run.score:g}/{run.max_score:g} over {len(run.results)} files",
                          style="bold"))
    parts += [Text(f"Not used: {note}", style="yellow") for note in run.notes]
    print_rich(parts, output, color=color)
