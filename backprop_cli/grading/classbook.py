"""A class's grades as plain records: one row per student, one entry per exercise of the key.

Every exercise of the key appears for every student, in the key's order, so
the maximum never shrinks: an absent file is ``missing`` and an unreadable or
hostile one ``unreadable``, both with no points.  These records carry no
timings, so the gradebook is the same for any number of workers.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field, replace

from backprop_cli.grading.results import FileResult
from backprop_cli.grading.submissions import Key


class Standing(str, enum.Enum):
    """How a student's exercise could be graded."""

    GRADED = "graded"
    MISSING = "missing"  # no file for it
    UNREADABLE = "unreadable"  # a file for it that could not be used (not YAML, hostile, too slow)


@dataclass(frozen=True)
class KeyInfo:
    """An exercise of the key, for column headings."""

    id: str
    title: str | None
    file: str
    max_score: float


@dataclass(frozen=True)
class ExerciseGrade:
    id: str
    status: Standing
    score: float
    max_score: float
    result: FileResult  # the items (all missing when there is no file), or the error
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StudentGrade:
    student: str
    exercises: list[ExerciseGrade]
    notes: list[str] = field(default_factory=list)  # files that were not used, and why
    crashes: list[Exception] = field(default_factory=list)  # unexpected exceptions, for --debug

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    def results(self) -> list[FileResult]:
        """One check result per exercise of the key, in its order, notes included."""
        return [replace(e.result, notes=e.notes) for e in self.exercises]


@dataclass(frozen=True)
class Gradebook:
    exercises: list[KeyInfo]
    students: list[StudentGrade]
    notes: list[str] = field(default_factory=list)  # what in the submissions folder is not a student

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    @property
    def crashes(self) -> list[Exception]:
        return [c for s in self.students for c in s.crashes]

    def mistakes(self) -> dict[str, list[tuple[str, int]]]:
        """Per exercise, how many students hit each diagnosis code, most common first."""
        counts: dict[str, Counter] = {e.id: Counter() for e in self.exercises}
        for student in self.students:
            for grade in student.exercises:
                codes = {i.diagnosis for i in grade.result.items if i.diagnosis}
                counts[grade.id].update(codes)
        return {eid: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for eid, c in counts.items() if c}

    def problems(self) -> list[str]:
        """Every file that scored nothing because it could not be used, and every note."""
        lines = list(self.notes)
        for student in self.students:
            lines += [f"{student.student}: {note}" for note in student.notes]
            for grade in student.exercises:
                if grade.status is Standing.UNREADABLE:
                    lines.append(f"{student.student}: {grade.id}: {grade.result.error}")
                lines += [f"{student.student}: {grade.id}: {note}" for note in grade.notes
                          if grade.status is Standing.GRADED]
        return lines


def key_info(key: Key) -> list[KeyInfo]:
    return [KeyInfo(k.id, k.exercise.title, k.missing.file, k.max_score) for k in key.exercises]


def assemble(student: str, key: Key, outcomes: list[tuple[FileResult, Exception | None]],
             skipped: list[str]) -> StudentGrade:
    """A student's grades from the results of their files, one per exercise of the key.

    A file is for the exercise it was matched to while grading, else (when it could not
    even be read) for the exercise its name points at.  When several files are for one
    exercise, the first usable one in name order is graded and the others are noted.
    """
    notes = list(skipped)
    found: dict[str, list[FileResult]] = {k.id: [] for k in key.exercises}
    for result, _ in sorted(outcomes, key=lambda o: o[0].file):
        target = result.id if result.id in found else None
        if target is None:
            named = key.by_name(result.file)
            target = named.id if named is not None and result.error is not None else None
        if target is None:
            notes.append(f"{result.file}: {result.error or 'not used'}".replace("\n", " "))
        else:
            found[target].append(result)
    grades = []
    for k in key.exercises:
        files = found[k.id]
        if not files:
            grades.append(ExerciseGrade(k.id, Standing.MISSING, 0.0, k.max_score, k.missing,
                                        list(k.missing.notes)))
            continue
        chosen = next((f for f in files if f.error is None), files[0])
        extra = [f"also found {f.file} (not graded)" for f in files if f is not chosen]
        if chosen.error is None:
            grades.append(ExerciseGrade(k.id, Standing.GRADED, chosen.score, k.max_score, chosen,
                                        chosen.notes + extra))
        else:
            error = replace(chosen, id=k.id, title=k.exercise.title, max_score=k.max_score)
            grades.append(ExerciseGrade(k.id, Standing.UNREADABLE, 0.0, k.max_score, error, extra))
    return StudentGrade(student, grades, notes, [c for _, c in outcomes if c is not None])
