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
from backprop_cli.source.yamlsrc import YMapping, YNode, YScalar, YSequence, is_missing, load_file

ANSWER_TEXTS = 4096  # distinct answers (or sets of a student's values) kept per exercise and table


@dataclass(frozen=True)
class Loaded:
    """One file's exercise, and the solution it shares with every copy of the same text."""

    exercise: Exercise
    solution: Solution
    shared_from: str | None = None  # the file the shared exercise was first read from, if another

    def own(self, problems: list[Problem]) -> list[Problem]:
        """Problems about the shared exercise part, placed in this file instead of the first one."""
        if self.shared_from is None:
            return problems
        return [replace(p, location=replace(p.location, file=self.exercise.file))
                if p.location is not None and p.location.file == self.shared_from else p for p in problems]


_EXERCISES: Memo[Loaded] = Memo(16)


def load(path: str, limits: Limits, salt: str | None = None, watch: Watch = no_watch) -> Loaded:
    """The exercise in ``path``, solved once for every file with the same exercise part."""
    watch(Phase.READING, "")
    root = load_file(path, limits)
    watch(Phase.LOADING, "")
    stem = Path(path).stem
    key = exercise_key(root, stem, limits, salt)
    if key is None:
        exercise = exercise_from_tree(root, path, stem, limits, salt)
        return Loaded(exercise, Solution(exercise))
    first = _EXERCISES.get(key)
    if first is None:
        exercise = exercise_from_tree(root, path, stem, limits, salt)  # a problem here is not kept
        return _EXERCISES.put(key, Loaded(exercise, Solution(exercise)))
    answers = root.get("answers")
    exercise = replace(first.exercise, file=path, answers=answers if isinstance(answers, YMapping) else None)
    return Loaded(exercise, first.solution, first.exercise.file if first.exercise.file != path else None)


def exercise_key(root: YNode, stem: str, limits: Limits, salt: str | None) -> Hashable | None:
    """A digest of everything but ``answers:``, with what else decides the exercise; None when the
    file is not a plain exercise (it is then read on its own, and its problems reported as usual)."""
    if not isinstance(root, YMapping):
        return None
    source = root.source
    keys = [k for k, _ in root.items]
    at = next((i for i, k in enumerate(keys) if k.text == "answers"), None)
    start = end = len(source.text)
    if at is not None:
        if not (is_missing(root.items[at][1]) or isinstance(root.items[at][1], YMapping)):
            return None  # 'answers' of the wrong kind: a problem of this file alone
        start = keys[at].start_index
        end = keys[at + 1].start_index if at + 1 < len(keys) else len(source.text)
        if start < 0 or end < start:
            return None
    digest = hashlib.blake2b(source.text[:start].encode("utf-8", "surrogatepass"), digest_size=32)
    digest.update(b"\0answers\0" + source.text[end:].encode("utf-8", "surrogatepass"))
    # What follows the answers stands where their size puts it: length, lines, last line's length.
    first, last = source.location(start), source.location(end)
    span = (end - start, last.line - first.line, last.column - (first.column if last.line == first.line else 0))
    named = root.get("id") is not None and salt is None  # else the file's name is part of the exercise
    return (digest.digest(), span if end < len(source.text) else None, None if named else stem, limits, salt)


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
