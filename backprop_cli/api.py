"""The library for notebooks and scripts: ``from backprop_cli import load, check, explanation``.

Each returns the same records the commands render.  In Jupyter each shows
itself as the HTML page of ``--format html``: importing this module tells a
running IPython how to draw them (its ``text/html`` formatter), so the records
themselves stay plain data that knows nothing of HTML::

    from backprop_cli import check, explanation
    explanation("exercises/linear-model.yaml")       # the graph, the forward table, the steps
    check("exercises/mlp-2-3-3-1.yaml", answers="my-answers.yaml")   # the graded report
"""

from __future__ import annotations

import os
import sys

from backprop_cli.exercise.model import Exercise
from backprop_cli.grading import pipeline
from backprop_cli.grading.pipeline import CheckRun
from backprop_cli.grading.results import Detail, Explanation, FileResult
from backprop_cli.render.html import check_page, explain_page, notebook_prefix
from backprop_cli.source.limits import DEFAULT

Path = str | os.PathLike


def load(path: Path) -> Exercise:
    """Read and check one exercise file; problems raise BackpropError naming file:line:col."""
    return pipeline.load(path)


def check(paths: Path | list[Path], answers: Path | None = None,
          bounded: bool = True) -> FileResult | CheckRun:
    """Grade one file (a FileResult) or several (a CheckRun), with the graph drawn for the page.

    ``answers`` is an answers file (``key: answer``) to grade instead of the
    file's own ``answers:``.  With ``bounded`` (the default, as on the command
    line) each answer is graded in a worker bounded in time and memory.
    """
    single = isinstance(paths, (str, os.PathLike))
    files = [os.fspath(paths)] if single else [os.fspath(p) for p in paths]
    given = pipeline.load_answers(answers) if answers is not None else None
    run = pipeline.check(files, given, DEFAULT, bounded=bounded, pictures=True, detail=Detail.FULL)
    return run.results[0] if single else run


def explanation(exercise: Exercise | Path, of: str | None = None,
                wrt: str | None = None) -> Explanation:
    """The trace of an exercise (a file or a loaded Exercise) and its graph, drawn."""
    if not isinstance(exercise, Exercise):
        exercise = pipeline.load(exercise)
    return pipeline.explanation(exercise, of, wrt)


def page(record: FileResult | CheckRun | Explanation) -> str:
    """The record as an HTML block for a notebook (ids unique within the notebook's document)."""
    if isinstance(record, Explanation):
        return explain_page(record, fragment=True, prefix=notebook_prefix())
    results = record.results if isinstance(record, CheckRun) else [record]
    return check_page(results, fragment=True, prefix=notebook_prefix())


def show_in_ipython(shell=None) -> bool:
    """Have IPython (Jupyter) draw the records as pages; False when no IPython is running."""
    if shell is None:
        ipython = sys.modules.get("IPython")  # not imported by us: only a running IPython counts
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    for kind in (FileResult, CheckRun, Explanation):
        formatter.for_type(kind, page)
    return True


show_in_ipython()
