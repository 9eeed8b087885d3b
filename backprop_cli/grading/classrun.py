"""Grading a whole class: students spread over worker processes, results in a fixed order.

The key is read and solved once per process and kept (forked workers inherit
the parent's copy; spawned ones read it once as they start), so every
submission of an exercise shares its derivation.  Each student's files are
graded in the bounded runner (:func:`backprop_cli.grading.pipeline.run_files`),
one answer at a time within its time and memory limits.  Results come back in
the order of the students' names whatever the number of workers, so the
gradebook is the same byte for byte for any ``jobs``.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from dataclasses import dataclass, replace
from typing import Callable

from backprop_cli.grading.process import default_signals
from backprop_cli.grading.classbook import Gradebook, StudentGrade, assemble, key_info
from backprop_cli.grading.submissions import Found, Key, find_files, grade_submission, load_key, shown_name
from backprop_cli.source.errors import BackpropError
from backprop_cli.source.limits import DEFAULT, Limits

Progress = Callable[[int, int], None]  # (students done, students in all)

_KEYS: dict[tuple[str, Limits], Key] = {}  # this process's solved keys
_KEEP = 4  # solved keys kept per process


@dataclass(frozen=True)
class Student:
    id: str  # the folder's name, printable
    path: str


def solved_key(folder: str | os.PathLike, limits: Limits = DEFAULT) -> Key:
    """The key read and solved, once per process."""
    name = (os.path.realpath(folder), limits)
    if name not in _KEYS:
        if len(_KEYS) >= _KEEP:
            _KEYS.pop(next(iter(_KEYS)))
        _KEYS[name] = load_key(folder, limits)
    return _KEYS[name]


def find_students(folder: str | os.PathLike) -> tuple[list[Student], list[str]]:
    """One student per subfolder, in name order; anything else in the folder is noted."""
    if not os.path.isdir(folder):
        raise BackpropError(f"cannot read the submissions '{folder}': no such folder")
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as err:
        raise BackpropError(f"cannot read the submissions '{folder}': {err.strerror or err}") from None
    students, notes = [], []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            students.append(Student(shown_name(entry.name), entry.path))
        else:
            notes.append(f"{shown_name(entry.name)}: not a student's folder, not read")
    return students, notes


def grade_student(key: Key, student: Student, limits: Limits = DEFAULT, bounded: bool = True,
                  pictures: bool = False) -> StudentGrade:
    """Every file of one student, graded in the bounded runner, matched to the key."""
    return grade_files(key, student.id, find_files(student.path, student.id), limits, bounded,
                       pictures=pictures)


def grade_files(key: Key, student: str, found: Found, limits: Limits = DEFAULT,
                bounded: bool = True, traces: bool = False, pictures: bool = False) -> StudentGrade:
    """One student's grades from the files found for them (``check --key`` calls this too)."""
    from backprop_cli.grading import pipeline

    paths = {display: path for path, display in found.files}
    grade = functools.partial(_grade_one, key, paths, limits, traces, pictures)
    outcomes = pipeline.run_files(list(paths), grade, limits, bounded)
    return assemble(student, key, outcomes, found.skipped)


def _grade_one(key: Key, paths: dict[str, str], limits: Limits, traces: bool, pictures: bool,
               display: str, watch, skip):
    return grade_submission(key, paths[display], display, limits, watch, skip, traces, pictures)


def grade_class(key_folder: str | os.PathLike, submissions: str | os.PathLike, jobs: int = 1,
                limits: Limits = DEFAULT, bounded: bool = True,
                progress: Progress | None = None, pictures: bool = False) -> Gradebook:
    """Grade every student's folder against the key, in ``jobs`` worker processes.

    ``pictures``: draw each graded file's graph, for students' HTML reports.
    """
    key = solved_key(key_folder, limits)
    students, notes = find_students(submissions)
    work = functools.partial(_grade_in_worker, os.fspath(key_folder), limits, bounded, pictures)
    if jobs <= 1 or len(students) <= 1:
        results = map(work, students)
        return _collect(key, results, students, notes, progress)
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                          else "spawn")
    with context.Pool(min(jobs, len(students)), initializer=_start_worker,
                      initargs=(os.fspath(key_folder), limits)) as pool:
        return _collect(key, pool.imap(work, students), students, notes, progress)


def _start_worker(key_folder: str, limits: Limits) -> None:
    """A pool worker: default signal handling (the pool ends its workers with SIGTERM, which the
    command's own stop handler, inherited through fork, would turn into an exception mid-queue),
    then the key, solved once for this worker (inherited already when forked)."""
    default_signals()
    solved_key(key_folder, limits)


def _grade_in_worker(key_folder: str, limits: Limits, bounded: bool, pictures: bool,
                     student: Student) -> StudentGrade:
    grade = grade_student(solved_key(key_folder, limits), student, limits, bounded, pictures)
    # Exceptions may not pickle on their way back from a worker: keep the words, for --debug.
    return replace(grade, crashes=[RuntimeError(f"{type(c).__name__}: {c}") for c in grade.crashes])


def _collect(key: Key, results, students: list[Student], notes: list[str],
             progress: Progress | None) -> Gradebook:
    grades = []
    for done, grade in enumerate(results, 1):
        grades.append(grade)
        if progress is not None:
            progress(done, len(students))
    return Gradebook(key_info(key), grades, notes)
