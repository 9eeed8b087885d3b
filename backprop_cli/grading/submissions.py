"""A teacher's key and students' files: reading them safely and matching one to the other.

The key is a folder of exercise files (their answers, if any, are ignored),
each read, solved and summarised once.  A student's file is either a filled-in
exercise (matched to the key by its ``id``, else by its file name) or an
answers file (``exercise: ID`` and ``key: answer`` lines).  Only its answers
are graded, always against the key's copy of the exercise: a student who
edits the givens cannot make a wrong answer right, and the report says that
the exercise was changed.

Students' folders are walked without following links, at a bounded depth and
number of files, and a file is read only when it is a regular file: a FIFO,
a device or a link to somewhere else is listed, never opened.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from backprop_cli.exercise.load import load_exercise
from backprop_cli.exercise.model import Exercise
from backprop_cli.grading.budget import Skips, Watch
from backprop_cli.grading.results import FileResult, summarize, with_times
from backprop_cli.grading.runner import Outcome
from backprop_cli.grading.solver import Solution
from backprop_cli.grading.stopwatch import Stopwatch
from backprop_cli.grading.verdicts import grade
from backprop_cli.source.errors import BackpropError, Problem, one_line
from backprop_cli.source.files import read_file
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import (YMapping, YNode, YScalar, YSequence, is_missing, load_file,
                                         load_text, node_problem)

SUFFIXES = (".yaml", ".yml")
ANSWER_SUFFIXES = ("-answers", "_answers", ".answers")  # linear-model-answers.yaml answers linear-model
MAX_FILES = 200  # YAML files looked at in one student's folder
MAX_DEPTH = 6  # folders inside a student's folder
MAX_ENTRIES = 20000  # files and folders looked at in one student's folder
MAX_NOTES = 50  # files passed over that are listed one by one


def shown_name(name: str) -> str:
    """A file or folder name as one printable line, whatever bytes it was made of."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return one_line(text).replace("\t", "\\t")


# ------------------------------------------------------------------ the key

@dataclass
class KeyExercise:
    """One exercise of the key, solved once and shared by every submission of it."""

    exercise: Exercise
    solution: Solution
    stem: str  # the key file's name without its suffix
    parts: dict[str, object]  # the exercise part of the file (answers left out), for comparison
    missing: FileResult  # what a student without a file for it gets: every item missing

    @property
    def id(self) -> str:
        return self.exercise.id

    @property
    def max_score(self) -> float:
        return self.missing.max_score

    def changed_parts(self, root: YMapping) -> list[str]:
        """The top-level keys whose content differs from the key's (answers left out)."""
        theirs = _parts(root)
        return [k for k in sorted(set(self.parts) | set(theirs)) if self.parts.get(k) != theirs.get(k)]


@dataclass
class Key:
    exercises: list[KeyExercise]
    by_id: dict[str, KeyExercise] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {k.id: k for k in self.exercises}

    @property
    def max_score(self) -> float:
        return sum(k.max_score for k in self.exercises)

    def by_name(self, display: str) -> KeyExercise | None:
        """The exercise a file is for, going by its name: ``linear-model.yaml`` or
        ``linear-model-answers.yaml`` for the key's ``linear-model``."""
        stem = Path(display).stem
        for candidate in (stem, *(stem[: -len(s)] for s in ANSWER_SUFFIXES if stem.endswith(s))):
            for k in self.exercises:
                if candidate in (k.id, k.stem):
                    return k
        return None

    def identify(self, root: YNode, display: str) -> tuple[KeyExercise, YMapping, list[str]]:
        """Which exercise a student's file is for, its answers, and notes for the report."""
        if not isinstance(root, YMapping):
            raise BackpropError(Problem(f"{display}: not an exercise or answers file "
                                        "(a YAML mapping of key: value lines was expected)"))
        filled = root.get("backprop") is not None or root.get("steps") is not None
        field_name = "id" if filled else "exercise"
        node = root.get(field_name)
        claimed = node.text.strip() if isinstance(node, YScalar) and not node.is_null else None
        notes: list[str] = []
        chosen = self.by_id.get(claimed) if claimed else None
        if chosen is None:
            chosen = self.by_name(display)
            says = f" (it says {field_name} '{one_line(claimed)}')" if claimed else ""
            if chosen is None:
                raise BackpropError(Problem(
                    f"{display}: not an exercise of this assignment{says}",
                    hint=f"the exercises are {', '.join(self.by_id)}: name the file after one, "
                         f"or write '{field_name}: ID' in it"))
            if claimed:
                notes.append(f"the file{says} is graded as '{chosen.id}', going by its name")
        if not filled:
            return chosen, root, notes
        changed = chosen.changed_parts(root)
        if changed:
            notes.append(f"the student changed the exercise ({', '.join(changed)}); "
                         "the answers are graded against the teacher's copy")
        answers = root.get("answers")
        if is_missing(answers):
            return chosen, YMapping(root.location, root.source, []), notes
        if not isinstance(answers, YMapping):
            raise BackpropError(node_problem(answers, "'answers' must be a mapping of key: answer"))
        return chosen, answers, notes


def key_files(folder: str | os.PathLike) -> list[str]:
    """The exercise files of a key: the folder's YAML files (not its subfolders), or one file."""
    path = Path(folder)
    if path.is_file():
        return [str(path)]
    if not path.is_dir():
        raise BackpropError(f"cannot read the key '{folder}': no such folder")
    files = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        raise BackpropError(f"the key '{folder}' holds no exercise files (*.yaml)")
    return files


def load_key(folder: str | os.PathLike, limits: Limits = DEFAULT) -> Key:
    """Read, check and solve every exercise of the key; every problem is reported at once."""
    problems: list[Problem] = []
    exercises: list[KeyExercise] = []
    for path in key_files(folder):
        try:
            exercise = load_exercise(path, limits)
            root = load_file(path, limits)
        except BackpropError as err:
            problems += err.problems
            continue
        if any(k.id == exercise.id for k in exercises):
            problems.append(Problem(f"{path}: a second exercise with id '{exercise.id}' in the key",
                                    hint="each exercise of an assignment needs its own id"))
            continue
        exercises.append(_derive(exercise, root, Path(path)))
    if problems:
        raise BackpropError(problems)
    return Key(exercises)


def _derive(exercise: Exercise, root: YMapping, path: Path) -> KeyExercise:
    """Solve every asked key now, so that every submission shares the work."""
    solution = Solution(exercise)
    for ask in exercise.asks:
        solution.expected(ask.key)
    nothing = YMapping(root.location, root.source, [])
    missing = summarize(grade(exercise, nothing, solution=solution), traces=False, reveal=True)
    missing = replace(missing, file=path.name, notes=[f"no file for this exercise (e.g. {path.name})"])
    return KeyExercise(exercise, solution, path.stem, _parts(root), missing)


def _parts(root: YMapping) -> dict[str, object]:
    return {k.text: _plain(v) for k, v in root.items if k.text != "answers"}


def _plain(node: YNode) -> object:
    """A node's content without positions or spacing: ``x*w`` and ``x * w`` are the same."""
    if isinstance(node, YScalar):
        return None if node.is_null else "".join(node.text.split())
    if isinstance(node, YMapping):
        return tuple((k.text, _plain(v)) for k, v in node.items)
    if isinstance(node, YSequence):
        return tuple(_plain(v) for v in node.items)
    return None


# ------------------------------------------------------------------ students' files

@dataclass(frozen=True)
class Found:
    """The YAML files in a student's folder (path, name shown), and what was passed over."""

    files: list[tuple[str, str]]
    skipped: list[str]


def find_files(folder: str, shown: str) -> Found:
    """YAML files under ``folder``, breadth first in name order, without following links.

    Hidden entries (``.git``) are passed over silently; links, FIFOs and devices with
    a YAML name are listed as skipped.  At most MAX_ENTRIES entries are looked at and
    MAX_FILES files kept; what lies past the bounds is counted in one note.
    """
    files: list[tuple[str, str]] = []
    skipped: list[str] = []
    over = 0  # YAML files past MAX_FILES
    seen = 0
    level = [(folder, shown)]
    for depth in range(MAX_DEPTH + 1):
        below = []
        for path, name in level:
            try:
                with os.scandir(path) as scan:
                    entries = sorted(itertools.islice(scan, MAX_ENTRIES - seen + 1), key=lambda e: e.name)
            except OSError as err:
                skipped.append(f"{name}: cannot be read ({err.strerror or err})")
                continue
            seen += len(entries)
            if seen > MAX_ENTRIES:
                skipped.append(f"{name}: more than {MAX_ENTRIES} entries; the rest are not looked at")
                return Found(sorted(files, key=lambda f: f[1]), skipped)
            for entry in entries:
                display = f"{name}/{shown_name(entry.name)}" if name else shown_name(entry.name)
                if entry.name.startswith("."):
                    continue
                yaml_name = entry.name.lower().endswith(SUFFIXES)
                if entry.is_symlink():
                    if yaml_name:
                        skipped.append(f"{display}: a link, not read")
                elif entry.is_dir(follow_symlinks=False):
                    if depth < MAX_DEPTH:
                        below.append((entry.path, display))
                elif not yaml_name:
                    continue
                elif not entry.is_file(follow_symlinks=False):
                    skipped.append(f"{display}: not a regular file, not read")
                elif len(files) >= MAX_FILES:
                    over += 1
                else:
                    files.append((entry.path, display))
        level = below
    skipped = skipped[:MAX_NOTES]
    if over:
        skipped.append(f"{shown}: {over} more YAML files past the first {MAX_FILES}, not read")
    return Found(sorted(files, key=lambda f: f[1]), skipped)


def read_regular(path: str, display: str, limits: Limits = DEFAULT) -> bytes:
    """The first bytes of a regular file; a link, FIFO or device is refused before reading."""
    return read_file(path, display, limits.max_file_bytes, follow_links=False)


def grade_submission(key: Key, path: str, display: str, limits: Limits, watch: Watch,
                     skip: Skips, traces: bool = False, picture: bool = False) -> Outcome:
    """Grade one student's file against the key; whatever goes wrong stays in its result.

    ``traces`` and ``picture``: the way to each wrong answer, and the graph with the
    asked items marked, for a report the student reads.
    """
    timer = Stopwatch(watch)
    crash = None
    try:
        root = load_text(read_regular(path, display, limits), display, limits)
        chosen, answers, notes = key.identify(root, display)
        report = grade(chosen.exercise, answers, limits, timer, skip, chosen.solution)
        result = summarize(report, timer, skip, picture, limits, traces, reveal=True)
        result = replace(result, file=display, notes=notes)
    except BackpropError as err:
        result = FileResult(display, None, None, "\n".join(p.render() for p in err.problems))
    except MemoryError:
        raise  # the runner decides which item ran out of memory
    except Exception as err:  # a bug must not cost the other files their grades
        result = FileResult(display, None, None, f"internal error while grading {display}: "
                                                 f"{type(err).__name__}: {err} (please report this)")
        crash = err
    return with_times(result, timer.seconds, timer.stop()), crash
