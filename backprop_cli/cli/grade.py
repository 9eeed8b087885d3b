"""``backprop grade``: a whole class against the teacher's key, as one gradebook."""

from __future__ import annotations

import os
import sys
import time

import click

from backprop_cli.cli.common import EXIT_OK, color_option, debug_enabled, friendly_errors

FORMATS = ["text", "csv", "json", "markdown", "junit"]
PROGRESS_AFTER = 1.0  # seconds before a progress bar appears (short runs stay quiet)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@click.command()
@click.argument("key", type=click.Path())
@click.argument("submissions", type=click.Path())
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Grade in N worker processes (default: the number of cores).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format: a table, or a gradebook for spreadsheets (csv) and scripts (json).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the gradebook to FILE (replaced in one step) instead of printing it.")
@click.option("--report-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Also write each student's own report to DIR/STUDENT.md (or .html).")
@click.option("--report-format", type=click.Choice(["markdown", "html"]), default="markdown",
              show_default=True, help="The students' reports: Markdown, or an HTML page with the graph drawn.")
@click.option("--time-limit", type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Time allowed for grading one answer (default 2).")
@click.option("--memory-limit", type=click.IntRange(min=256), metavar="MB",
              help="Memory grading may use on top of what the process has at start (default 4096).")
@color_option
@friendly_errors
def grade(key: str, submissions: str, jobs: int | None, fmt: str, output: str | None,
          report_dir: str | None, report_format: str, time_limit: float | None,
          memory_limit: int | None, color: bool | None) -> None:
    """Grade every student's folder in SUBMISSIONS against the exercises in KEY.

    \b
    KEY          the teacher's exercise files (their answers, if any, are ignored)
    SUBMISSIONS  one folder per student, named by the student's id, holding
                 filled-in exercise files or answers files ('exercise: ID')

    A student's file is matched to the key by its id, else by its file name, and
    only its answers are graded, against the key's copy of the exercise. A missing
    or unreadable file scores 0 and is listed. Exit code 0 when the class was graded
    (whatever the scores), 2 when KEY or SUBMISSIONS cannot be used.
    """
    from backprop_cli.grading import pipeline
    from backprop_cli.grading.runner import with_limits
    from backprop_cli.render.console import make_console
    from backprop_cli.source.limits import DEFAULT

    console = make_console(color)
    with _ProgressBar(console) as progress:
        book = pipeline.grade_class(key, submissions, jobs or _cores(),
                                    with_limits(DEFAULT, time_limit, memory_limit), progress=progress,
                                    pictures=report_dir is not None and report_format == "html")
    if debug_enabled() and book.crashes:
        raise book.crashes[0]
    if report_dir is not None:
        _write_reports(book, report_dir, report_format)
    _show(book, fmt, output, console)
    sys.exit(EXIT_OK)


def _show(book, fmt: str, output: str | None, console) -> None:
    from backprop_cli.cli.output import emit

    if fmt == "text":
        from backprop_cli.cli.output import print_rich
        from backprop_cli.render.gradebook import gradebook_group

        print_rich([gradebook_group(book)], output, console)
        return
    if fmt == "csv":
        from backprop_cli.render.gradebook import gradebook_csv

        text = gradebook_csv(book)
    elif fmt == "json":
        from backprop_cli.render.gradebook import gradebook_document
        from backprop_cli.render.jsonout import dumps

        text = dumps(gradebook_document(book))
    elif fmt == "markdown":
        from backprop_cli.render.gradebook import gradebook_markdown

        text = gradebook_markdown(book)
    else:
        from backprop_cli.render.junit import junit_xml

        pairs = [(s.student, r) for s in book.students for r in s.results()]
        text = junit_xml([r for _, r in pairs], [name for name, _ in pairs], book.notes)
    emit(text, output)


def _write_reports(book, folder: str, form: str) -> None:
    """Each student's own report, in Markdown or HTML: what they see, nothing hidden shown."""
    from backprop_cli.cli.output import write_atomic
    from backprop_cli.grading.results import student_view
    from backprop_cli.render.html import check_page
    from backprop_cli.render.markdown_report import check_markdown
    from backprop_cli.source.errors import BackpropError

    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:
        raise BackpropError(f"cannot make the report folder '{folder}': {err.strerror or err}") from None
    for student in book.students:
        name = student.student.replace("/", "_").replace("\\", "_").lstrip(".") or "student"
        if form == "html":
            page = check_page([student_view(r) for r in student.results()])
            write_atomic(os.path.join(folder, name + ".html"), page)
        else:
            write_atomic(os.path.join(folder, name + ".md"), check_markdown(
                student.results(), student.notes, heading=f"Report for {student.student}"))


class _ProgressBar:
    """A rich progress bar with an ETA, shown on a terminal once grading takes over a second."""

    def __init__(self, console, clock=time.monotonic) -> None:
        self.console, self.clock = console, clock
        self.started = clock()
        self.bar = None
        self.task = None

    def __enter__(self):
        return self if self.console.is_terminal else None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if self.clock() - self.started < PROGRESS_AFTER or done >= total:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("students, about"), TimeRemainingColumn(),
                                console=self.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task("grading", total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
