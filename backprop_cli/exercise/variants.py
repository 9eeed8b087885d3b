"""Per-student variants: the same draw for a student on every machine, and a keyed digest.

The seed is SHA-256 of (student id, exercise id, salt).  It comes from
:mod:`hashlib`, not the built-in ``hash()``, which Python salts afresh in
every process; and numbers are drawn from SHA-256 in counter mode with
rejection sampling, not from :mod:`random`, whose algorithms may change
between Python versions.  So a student's variant is the same everywhere.

A student's copy records the student id, the generators and constraints it
was drawn from (``variant:``), and a digest: HMAC-SHA256 keyed with the
teacher's salt over the whole exercise as data, except the answers.  With the
salt, ``check --salt`` draws the variant again and refuses a copy whose
givens (or anything else but the answers) were edited.  Without a salt the
digest is keyed with the empty string, which anyone can recompute: it then
catches accidents, not a student who means to cheat (see docs/authoring.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from typing import Callable

from backprop_cli.autodiff.tensor import Value
from backprop_cli.exercise.build import AtTheseValues
from backprop_cli.exercise.generators import (Constraint, Generator, is_generator, read_constraints,
                                              read_generator)
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.reading import read_text, read_value
from backprop_cli.source.errors import BackpropError, Problem
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import YMapping, YNode, YScalar, YSequence, is_missing, node_problem

LABEL = "backprop-variant-1"  # changes only if the way variants are drawn changes
DIGEST_CHARS = 16
MAX_TRIES = 100  # draws tried for one student before the constraints are declared unmet
MAX_STUDENT = 200  # characters of a student id
RECORD_FIELDS = ("student", "digest", "given", "where")
SAMPLE_STUDENTS = tuple(f"sample-{i}" for i in range(1, 9))  # what validate and list draw

Build = Callable[[YMapping], Exercise]  # the exercise a (concrete) tree describes


def seed_of(student: str, exercise_id: str, salt: str) -> bytes:
    return hashlib.sha256(json.dumps([LABEL, student, exercise_id, salt]).encode("utf-8")).digest()


class Stream:
    """Whole numbers drawn from a seed: SHA-256 in counter mode, rejection-sampled."""

    def __init__(self, seed: bytes) -> None:
        self.seed, self.block, self.pool = seed, 0, b""

    def _take(self, n: int) -> bytes:
        while len(self.pool) < n:
            self.pool += hashlib.sha256(self.seed + self.block.to_bytes(8, "big")).digest()
            self.block += 1
        out, self.pool = self.pool[:n], self.pool[n:]
        return out

    def below(self, n: int) -> int:
        """Uniform in 0..n-1 (no modulo bias: draws past the last whole multiple are redrawn)."""
        if not 1 <= n <= 2**63:
            raise ValueError(f"cannot draw below {n}")
        bound = 2**64 - 2**64 % n
        while True:
            x = int.from_bytes(self._take(8), "big")
            if x < bound:
                return x % n


def plain_data(node: YNode | None):
    """A YAML tree as JSON-like data: every scalar as the text written (null as None)."""
    if node is None or isinstance(node, YScalar):
        return None if node is None or node.is_null else node.text
    if isinstance(node, YSequence):
        return [plain_data(item) for item in node.items]
    return {key.text: plain_data(value) for key, value in node.items}


def flow_text(node: YNode) -> str:
    """A value as a short line of text, for messages: 3, [1, 2], [[1, 2], [3, 4]]."""
    data = plain_data(node)
    return json.dumps(data, ensure_ascii=False).replace('"', "") if isinstance(data, list) else str(data)


def digest_of(root: YMapping, salt: str) -> str:
    """HMAC-SHA256, keyed with the salt, of everything in the file but the answers and the digest."""
    data = plain_data(root)
    data.pop("answers", None)
    if isinstance(data.get("variant"), dict):
        data["variant"].pop("digest", None)
    message = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hmac.new(salt.encode("utf-8"), message, hashlib.sha256).hexdigest()[:DIGEST_CHARS]


def check_student(student: str) -> str:
    """A student id as given on the command line: one printable line, not too long."""
    text = student.strip()
    if not text:
        raise BackpropError("--student: the student id is empty")
    if len(text) > MAX_STUDENT or not text.isprintable():
        raise BackpropError(f"--student: a student id is one line of at most {MAX_STUDENT} printable "
                            "characters")
    return text


@dataclass(frozen=True)
class Record:
    """A student's copy's ``variant:`` block."""

    student: str
    digest: str
    node: YMapping


@dataclass
class Template:
    """What variants are drawn from: a template's generators, or those a copy recorded."""

    root: YMapping
    generators: dict[str, Generator] = field(default_factory=dict)
    constraints: list[Constraint] = field(default_factory=list)
    record: Record | None = None

    @property
    def makes_variants(self) -> bool:
        """A template whose givens are still generators (not a student's copy)."""
        return bool(self.generators) and self.record is None

    def fixed_values(self, limits: Limits) -> dict[str, Value]:
        given = self.root.get("given")
        values = {}
        for key, node in given.items if isinstance(given, YMapping) else []:
            if key.text not in self.generators:
                try:
                    values[key.text] = read_value(node, f"given '{key.text}'", limits)
                except BackpropError:
                    pass  # the exercise reader reports it
        return values


def read_template(root: YNode, limits: Limits = DEFAULT) -> Template | None:
    """The generators, constraints and record of a file; None when it is not a mapping at all."""
    if not isinstance(root, YMapping):
        return None
    template, problems = Template(root), []
    given = root.get("given")
    names = set(given.keys()) if isinstance(given, YMapping) else set()
    steps = root.get("steps")
    known = names | (set(steps.keys()) if isinstance(steps, YMapping) else set())
    record_node = root.get("variant")
    specs = [(k, v) for k, v in given.items if is_generator(v)] if isinstance(given, YMapping) else []
    constraints_node = root.get("where")
    if not is_missing(record_node):
        if specs:
            problems.append(node_problem(specs[0][1], "a student's copy (it has a 'variant:' record) "
                                                      "has values in 'given', not generators"))
        try:
            template.record, specs, constraints_node = _read_record(record_node, names)
        except BackpropError as err:
            problems += err.problems
    for key, spec in specs:
        try:
            template.generators[key.text] = read_generator(spec, key.text, limits)
        except BackpropError as err:
            problems += err.problems
    try:
        template.constraints = read_constraints(constraints_node, known, limits)
    except BackpropError as err:
        problems += err.problems
    if template.constraints and not template.generators and not problems:
        problems.append(node_problem(constraints_node, "'where' constrains generated givens, but no "
                                                       "given is a generator"))
    if problems:
        raise BackpropError(problems)
    return template


def _read_record(node: YNode, givens: set[str]):
    if not isinstance(node, YMapping):
        raise BackpropError(node_problem(node, "'variant' is the record 'backprop variant' writes"))
    for key in node.keys():
        if key not in RECORD_FIELDS:
            raise BackpropError(node_problem(node.key_node(key), f"unknown field '{key}' in 'variant'",
                                             "it has " + ", ".join(RECORD_FIELDS)))
    for name in ("student", "digest"):
        if node.get(name) is None:
            raise BackpropError(node_problem(node, f"the 'variant' record has no '{name}'"))
    student, digest = read_text(node.get("student"), "student"), read_text(node.get("digest"), "digest")
    generated = node.get("given")
    specs = []
    if not is_missing(generated):
        if not isinstance(generated, YMapping):
            raise BackpropError(node_problem(generated, "the record's 'given' maps names to generators"))
        for key, spec in generated.items:
            if key.text not in givens:
                raise BackpropError(node_problem(key, f"the record generates '{key.text}', which is not a given"))
            if not is_generator(spec):
                raise BackpropError(node_problem(spec, f"the record's '{key.text}' is not a generator"))
            specs.append((key, spec))
    return Record(student, digest, node), specs, node.get("where")


def concrete(root: YMapping, picks: dict[str, YNode]) -> YMapping:
    """The tree with each generated given replaced by the value drawn for it."""
    items = []
    for key, value in root.items:
        if key.text == "given" and isinstance(value, YMapping):
            value = YMapping(value.location, value.source,
                             [(k, picks.get(k.text, v)) for k, v in value.items])
        items.append((key, value))
    return YMapping(root.location, root.source, items)


@dataclass(frozen=True)
class Variant:
    student: str
    root: YMapping  # the template's tree with the drawn values
    exercise: Exercise
    picks: dict[str, YNode]
    tries: int  # draws it took to meet the constraints


class Unsatisfied(BackpropError):
    """No draw met the constraints (and gave a defined exercise) within MAX_TRIES."""


def draw(template: Template, student: str, exercise_id: str, salt: str, build: Build,
         limits: Limits = DEFAULT) -> Variant:
    """Draw until the constraints hold and the exercise is defined (at most MAX_TRIES draws)."""
    stream = Stream(seed_of(student, exercise_id, salt))
    deadline = time.monotonic() + limits.load_seconds  # each draw is bounded; so is their number
    fixed = template.fixed_values(limits)
    givens = set(fixed) | set(template.generators)
    early = [c for c in template.constraints if c.names <= givens]
    late = [c for c in template.constraints if not c.names <= givens]
    failed: list[Problem] = []
    for attempt in range(1, MAX_TRIES + 1):
        if time.monotonic() > deadline:
            raise Unsatisfied(Problem(f"no variant for student '{student}' was found in "
                                      f"{limits.load_seconds:g} s ({attempt - 1} draws)",
                                      template.constraints[0].where.location if template.constraints else None,
                                      "relax 'where', or make the exercise quicker to compute"))
        picks = {name: g.draw(stream) for name, g in template.generators.items()}
        values = {**fixed, **{name: read_value(node, name, limits) for name, node in picks.items()}}
        if not all(c.holds(values, limits) for c in early):
            continue
        root = concrete(template.root, picks)
        try:
            exercise = build(root)
        except AtTheseValues as err:  # log(0), mismatched shapes, ... at these values: draw again
            failed = err.problems
            continue
        named = {n.name: exercise.values[n] for n in exercise.graph.named()}
        if all(c.holds(named, limits) for c in late):
            return Variant(student, root, exercise, picks, attempt)
    where = template.constraints[0].where.location if template.constraints else None
    message = (f"no variant for student '{student}' met the constraints and was defined in "
               f"{MAX_TRIES} draws")
    last = f"; the last undefined draw: {failed[0].message}" if failed else ""
    raise Unsatisfied(Problem(message + last, where, "widen the generators' ranges or relax 'where'"))


def template_problem(template: Template) -> Problem:
    """Why a template cannot be checked, solved or explained as it is."""
    name, generator = next(iter(template.generators.items()))
    return node_problem(generator.node, f"given '{name}' is a generator ({generator.describe()}): "
                                        "this file is a template for per-student variants",
                        "write a student's copy with 'backprop variant FILE --student ID'; "
                        "'backprop validate FILE' checks a sample of variants")


def check_variant(template: Template | None, exercise: Exercise, salt: str, build: Build,
                  limits: Limits = DEFAULT) -> None:
    """Refuse a student's copy whose givens (or anything but its answers) differ from the
    variant drawn for its recorded student with ``salt``."""
    record = template.record if template else None
    if record is None:
        raise BackpropError(Problem(f"{exercise.file}: --salt checks a student's variant, but this file "
                                    "has no 'variant:' record",
                                    hint="students' copies are written by 'backprop variant FILE "
                                         "--student ID --salt S'"))
    wrong_salt = "(or --salt is not the salt the variants were made with)"
    try:
        variant = draw(template, record.student, exercise.id, salt, build, limits)
    except BackpropError:
        raise BackpropError(node_problem(record.node, f"student '{record.student}''s variant cannot be "
                                                      f"drawn again from this file {wrong_salt}")) from None
    given = template.root.get("given")
    for name, pick in variant.picks.items():
        written = given.get(name)
        if written is None:
            raise BackpropError(node_problem(given, f"given '{name}' was removed from this copy"))
        if plain_data(written) != plain_data(pick):
            raise BackpropError(node_problem(
                written, f"given '{name}' was changed: it is {flow_text(written)}, but student "
                         f"'{record.student}''s variant has {name} = {flow_text(pick)} {wrong_salt}"))
    if not hmac.compare_digest(record.digest, digest_of(template.root, salt)):
        raise BackpropError(node_problem(
            record.node.get("digest"), "this copy was edited after it was handed out: its digest does "
                                       f"not match (only the answers may change) {wrong_salt}"))

