"""Derived once: each distinct exercise, and each distinct answer to it, per process.

A class is thousands of copies of the same few exercises, each with its own
``answers:``.  The exercise part of a file (all but ``answers:``) is read,
built and solved once per distinct text, and every copy shares that solution:
its backward passes, its expected values, the mistakes diagnosis replays and
the traces that explain them.  Each distinct answer text is read once per
exercise.  Tables are keyed by content, never by a file's name, and bounded.

A copy is graded under its own name: its exercise is the shared one with the
copy's file and answers, and a problem found in the shared part is reported
in the copy's file, at the same line and column (the key holds every
character that decides a position).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Hashable

from backprop_cli.exercise.load import exercise_from_tree
from backprop_cli.exercise.model import Exercise
from backprop_cli.grading.budget import Phase, Watch, no_watch
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import Problem
from backprop_cli.source.limits import Limits
from backprop_cli.source.memo import Memo
from backprop_cli.source.yamlsrc import (Source, YMapping, YNode, YScalar, YSequence, is_missing, parse,
                                         read_source, read_top_value, top_level_span)

ANSWER_TEXTS = 4096  # distinct answers (or sets of a student's values) kept per exercise and table


@dataclass(frozen=True)
class Loaded:
    """One file's exercise, and the solution it shares with every copy of the same text."""

    exercise: Exercise
    solution: Solution
    shared_from: str | None = None  # the file the shared exercise was first read from, if another
    outside: int = 0  # the YAML values of the file outside its answers

    def own(self, problems: list[Problem]) -> list[Problem]:
        """Problems about the shared exercise part, placed in this file instead of the first one."""
        if self.shared_from is None:
            return problems
        return [replace(p, location=replace(p.location, file=self.exercise.file))
                if p.location is not None and p.location.file == self.shared_from else p for p in problems]

    def copy(self, path: str, answers: YNode | None) -> "Loaded":
        """The exercise of a copy in ``path``, with the copy's own answers."""
        exercise = replace(self.exercise, file=path, answers=answers if isinstance(answers, YMapping) else None)
        return Loaded(exercise, self.solution, self.exercise.file if self.exercise.file != path else None,
                      self.outside)


_EXERCISES: Memo[Loaded] = Memo(16)


def load(path: str, limits: Limits, salt: str | None = None, watch: Watch = no_watch) -> Loaded:
    """The exercise in ``path``, solved once for every file with the same exercise part.

    A copy of an exercise read before has only its answers read: libyaml walks
    through the rest, whose text is the same as the first copy's.
    """
    watch(Phase.READING, "")
    source = read_source(path, limits)
    stem = Path(path).stem
    copy = _copy_of_known(source, path, stem, limits, salt)
    if copy is None:
        root = parse(source, limits)
    watch(Phase.LOADING, "")
    if copy is not None:
        return copy
    key = exercise_key(root, stem, limits, salt)
    if key is None:
        exercise = exercise_from_tree(root, path, stem, limits, salt)
        return Loaded(exercise, Solution(exercise))
    first = _EXERCISES.get(key)
    if first is None:
        exercise = exercise_from_tree(root, path, stem, limits, salt)  # a problem here is not kept
        answers = root.get("answers")
        outside = _values(root) - (_values(answers) if answers is not None else 0)
        return _EXERCISES.put(key, Loaded(exercise, Solution(exercise), outside=outside))
    return first.copy(path, root.get("answers"))


def _copy_of_known(source: Source, path: str, stem: str, limits: Limits, salt: str | None) -> Loaded | None:
    """A copy of an exercise already read, with its answers read alone; None when it is not one."""
    span = top_level_span(source.text, "answers")
    if span is None:
        return None
    for name in (None, stem):  # an exercise without an id takes its name from the file's
        first = _EXERCISES.get(_key(source, span, name, limits, salt))
        if first is not None:
            answers = read_top_value(source, limits, "answers", span, first.outside)
            if answers is None or not (is_missing(answers) or isinstance(answers, YMapping)):
                return None
            return first.copy(path, answers)
    return None


def exercise_key(root: YNode, stem: str, limits: Limits, salt: str | None) -> Hashable | None:
    """A digest of everything but ``answers:``, with what else decides the exercise; None when the
    file is not a plain exercise (it is then read on its own, and its problems reported as usual)."""
    if not isinstance(root, YMapping):
        return None
    text = root.source.text
    keys = [k for k, _ in root.items]
    at = next((i for i, k in enumerate(keys) if k.text == "answers"), None)
    span = (len(text), len(text))
    if at is not None:
        if not (is_missing(root.items[at][1]) or isinstance(root.items[at][1], YMapping)):
            return None  # 'answers' of the wrong kind: a problem of this file alone
        span = (keys[at].start_index, keys[at + 1].start_index if at + 1 < len(keys) else len(text))
        if span[0] < 0 or span[1] < span[0]:
            return None
    named = root.get("id") is not None and salt is None  # else the file's name is part of the exercise
    return _key(root.source, span, None if named else stem, limits, salt)


def _key(source: Source, span: tuple[int, int], stem: str | None, limits: Limits, salt: str | None) -> Hashable:
    """The text around the answers, and where what follows them stands (their length, their lines,
    their last line's length): every character that decides a position in the exercise part."""
    start, end = span
    digest = hashlib.blake2b(source.text[:start].encode("utf-8", "surrogatepass"), digest_size=32)
    digest.update(b"\0answers\0" + source.text[end:].encode("utf-8", "surrogatepass"))
    first, last = source.location(start), source.location(end)
    shape = (end - start, last.line - first.line, last.column - (first.column if last.line == first.line else 0))
    return (digest.digest(), shape if end < len(source.text) else None, stem, limits, salt)


def _values(node: YNode) -> int:
    """How many YAML values a node holds, itself and mapping keys included."""
    if isinstance(node, YMapping):
        return 1 + sum(_values(k) + _values(v) for k, v in node.items)
    if isinstance(node, YSequence):
        return 1 + sum(_values(item) for item in node.items)
    return 1


def answer_key(node: YNode) -> Hashable | None:
    """An answer's content: its text, or the texts of a list's entries; None for anything else."""
    if isinstance(node, YScalar):
        return ("text", node.text) if node.flaw is None else None
    if isinstance(node, YSequence) and not node.oversized:
        entries = tuple(answer_key(item) for item in node.items)
        return None if None in entries else ("list", entries)
    return None


def table(solution: Solution, name: str, size: int = ANSWER_TEXTS) -> Memo:
    """One of the tables kept with an exercise's solution (answers read, answers judged, ...)."""
    found = solution.memo.get(name)
    if found is None:
        found = solution.memo[name] = Memo(size)
    return found
