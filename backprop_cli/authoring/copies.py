"""Students' copies: the blank copy of an exercise, and one student's variant of a template.

A copy keeps what the student needs (the prompt, givens, steps, asks and the
grading settings, ``hide_expected`` included, so that ``check`` on the copy
still hides what the teacher hid) and ends with ``answers:``, a placeholder
for every ask with a comment saying what it means.  The question tests and
the teacher's own answers are left out (they hold answers and the classic
mistakes), and so are the teacher's comments.  A variant also records the
student id, the generators and constraints it was drawn from, and a digest
keyed with the salt (:mod:`backprop_cli.exercise.variants`).

Every copy is read back and checked before it is handed over.
"""

from __future__ import annotations

import os
from pathlib import Path

from backprop_cli.authoring import yamlout
from backprop_cli.autodiff.graph import Role
from backprop_cli.autodiff.tensor import shape
from backprop_cli.exercise.asks import Ask, Form
from backprop_cli.exercise.keys import GradKey, TrainKey, ValueKey
from backprop_cli.exercise.load import builder, exercise_from_tree, exercise_id
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.variants import check_student, digest_of, draw, read_template
from backprop_cli.source.errors import BackpropError, Location
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import Source, YMapping, YNode, YScalar, load_file, load_text

LEFT_OUT = ("answers", "tests", "where", "variant")
_HERE = Source("<copy>", "")
_AT = Location("<copy>", 1, 1)


def _scalar(text: str | None, style: str = "double") -> YScalar:
    return YScalar(_AT, _HERE, "" if text is None else text, "plain" if text is None else style)


def _mapping(items: list[tuple[str, YNode]]) -> YMapping:
    return YMapping(_AT, _HERE, [(_scalar(k, "plain"), v) for k, v in items])


def shape_words(value) -> str:
    s = shape(value)
    if s == ():
        return "a number"
    rows, cols = s
    if (rows, cols) == (1, 1):
        return "a 1x1 matrix (a single number will do)"
    if cols == 1:
        return f"a column of {rows} numbers, written [a, b, ...]"
    if rows == 1:
        return f"a row of {cols} numbers, written [[a, b, ...]]"
    return f"a {rows}x{cols} matrix, one list per row: [[...], [...], ...]"


def meaning(ask: Ask, exercise: Exercise) -> str:
    """What an answer key asks for, in words: 'the gradient of loss with respect to w, a number'."""
    key, node = ask.key, None
    if isinstance(key, GradKey):
        node = exercise.node(key.wrt)
        outside = "the outside loss " if exercise.upstream and key.of == exercise.upstream.name else ""
        words = f"the gradient of {outside}{key.of} with respect to {key.wrt}"
    elif isinstance(key, TrainKey):
        node = exercise.node(key.name)
        words = f"{key.name} after {key.step} update{'s' if key.step > 1 else ''}"
    else:
        assert isinstance(key, ValueKey)
        node = exercise.node(key.name)
        words = f"the value of {'given' if node.role is Role.GIVEN else 'step'} {key.name}"
    if ask.form is Form.FORMULA:
        return f"{words}, as a formula over the givens ({', '.join(exercise.given)})"
    return f"{words}, {shape_words(exercise.values[node])}"


def _copy(root: YMapping, exercise: Exercise, header: list[str], record: YMapping | None = None) -> str:
    sections = [(k.text, v) for k, v in root.items if k.text not in LEFT_OUT]
    if "id" not in root.keys():  # the copy's file name will differ: keep the id
        sections.insert(1, ("id", _scalar(exercise.id, "plain")))
    lines = [f"# {line}" if line else "#" for line in header]
    for key, value in sections:
        lines += yamlout.entry(key, value, 0, flow_ok=not isinstance(value, YMapping))
    if record is not None:
        lines += yamlout.entry("variant", record, 0, flow_ok=False)
    answers = _mapping([(ask.answer_key, _scalar(None)) for ask in exercise.asks])
    comments = {ask.answer_key: meaning(ask, exercise) for ask in exercise.asks}
    lines += ["answers:"] + yamlout.mapping(answers, 2, comments)
    return "\n".join(lines) + "\n"


def _header(exercise: Exercise, student: str | None = None) -> list[str]:
    title = f"{exercise.title} ({exercise.id})" if exercise.title else exercise.id
    lines = [f"backprop exercise: {title}"]
    if student is not None:
        lines += [f"Your own copy, made for {student}: your numbers differ from your classmates'.",
                  "Change nothing above 'answers:' (a changed copy is refused when it is graded)."]
    return lines + ["Write your answers after each key under 'answers:' at the end, then run:",
                    "    backprop check THIS_FILE"]


def _read_back(text: str, file: str, exercise: Exercise, limits: Limits, salt: str | None = None) -> None:
    """A copy that does not read back as the same exercise is a bug, never handed out."""
    copy = exercise_from_tree(load_text(text, file, limits), file, Path(file).stem, limits, salt)
    if [a.answer_key for a in copy.asks] != [a.answer_key for a in exercise.asks]:
        raise RuntimeError(f"the copy of {exercise.file} does not ask what the exercise asks")


def blank(path: str | os.PathLike, limits: Limits = DEFAULT) -> str:
    """The student's copy of an exercise, as YAML text."""
    name = str(path)
    root = load_file(path, limits)
    exercise = exercise_from_tree(root, name, Path(name).stem, limits)
    text = _copy(root, exercise, _header(exercise))
    _read_back(text, name, exercise, limits)
    return text


def variant(path: str | os.PathLike, student: str, salt: str = "", limits: Limits = DEFAULT) -> str:
    """``student``'s copy of a template, with values drawn for them and a digest keyed with ``salt``."""
    name, student = str(path), check_student(student)
    root = load_file(path, limits)
    template = read_template(root, limits)
    if template is None:
        exercise_from_tree(root, name, Path(name).stem, limits)  # says what is wrong
    if template.record is not None:
        raise BackpropError(f"{name} is already a student's copy (for '{template.record.student}'): "
                            "make variants from the template")
    ident = exercise_id(root.get("id"), Path(name).stem)
    drawn = draw(template, student, ident, salt, builder(name, Path(name).stem, limits), limits)
    record = [("student", _scalar(student))]
    if template.generators:
        record.append(("given", _mapping([(n, g.node) for n, g in template.generators.items()])))
    if root.get("where") is not None:
        record.append(("where", root.get("where")))
    unsigned = _copy(drawn.root, drawn.exercise, _header(drawn.exercise, student),
                     _mapping(record + [("digest", _scalar("0" * 16))]))
    digest = digest_of(load_text(unsigned, name, limits), salt)
    text = _copy(drawn.root, drawn.exercise, _header(drawn.exercise, student),
                 _mapping(record + [("digest", _scalar(digest))]))
    _read_back(text, name, drawn.exercise, limits, salt)
    return text


def write_copy(text: str, out: str, force: bool, source: str) -> None:
    """Write a copy to ``out``: never over the exercise itself, over another file only with force."""
    target = Path(out)
    if target.is_dir():
        raise BackpropError(f"-o {out}: that is a folder; give a file name")
    if target.exists():
        if os.path.samefile(target, source):
            raise BackpropError(f"-o {out}: that is the exercise itself; write the copy to another file")
        if not force:
            raise BackpropError(f"-o {out}: the file exists; add --force to overwrite it")
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise BackpropError(f"-o {out}: cannot write: {err.strerror or err}") from None
