"""``validate``: everything that can be checked about an exercise file without a student.

The format (every problem at once, each at file:line:col), then the answer
key proved three ways (:mod:`.proof`), warnings about weak exercises
(:mod:`.lint`), and the question tests (:mod:`.questiontests`).  A template
for per-student variants is checked on a sample of variants: the constraints
must be satisfiable, and each sampled variant is linted and tested.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from backprop_cli.authoring.findings import Code, Finding, Severity, error
from backprop_cli.authoring.lint import lint
from backprop_cli.authoring.proof import KeyProof, prove
from backprop_cli.authoring.questiontests import TestOutcome, run_tests
from backprop_cli.autodiff.graph import Role
from backprop_cli.exercise.load import builder, exercise_from_tree, exercise_id
from backprop_cli.exercise.model import Exercise
from backprop_cli.exercise.variants import SAMPLE_STUDENTS, Unsatisfied, Variant, draw, flow_text, read_template
from backprop_cli.grading.solver import Solution
from backprop_cli.source.errors import BackpropError, Problem
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import YMapping, load_file

PROVED_VARIANTS = 2  # sampled variants whose key is proved (all of them are linted and tested)


@dataclass(frozen=True)
class FileValidation:
    file: str
    id: str | None = None
    title: str | None = None
    findings: tuple[Finding, ...] = ()
    proofs: tuple[KeyProof, ...] = ()
    tests: tuple[TestOutcome, ...] = ()
    steps: int = 0
    asks: int = 0
    variants: int = 0  # sampled variants checked; 0 when the file is not a template

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def readable(self) -> bool:
        return not any(f.code is Code.FORMAT for f in self.findings)

    def ok(self, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)


def validate_files(paths: list[str], limits: Limits = DEFAULT) -> list[FileValidation]:
    return [validate_file(path, limits) for path in paths]


def exit_code(results: list[FileValidation], strict: bool = False) -> int:
    return 0 if all(r.ok(strict) for r in results) else 2


def validate_file(path: str | os.PathLike, limits: Limits = DEFAULT) -> FileValidation:
    """Validate one file; whatever goes wrong stays in its result."""
    name = str(path)
    try:
        root = load_file(path, limits)
        template = read_template(root, limits)
        if template is not None and template.makes_variants:
            return _validate_template(name, root, template, limits)
        exercise = exercise_from_tree(root, name, Path(path).stem, limits)
        solution = Solution(exercise)  # one set of backward passes for the proof, lint and tests
        proofs, findings = prove(exercise, solution, limits)
        outcomes, failures = run_tests(root, exercise, limits, solution)
        findings += lint(exercise, solution) + failures
    except BackpropError as err:  # unreadable, or e.g. a derivative undefined at the given values
        return FileValidation(name, findings=tuple(error(Code.FORMAT, p) for p in err.problems))
    except Exception as err:  # a bug must not cost the other files their validation
        return FileValidation(name, findings=(error(Code.FORMAT, Problem(
            f"internal error while validating {name}: {type(err).__name__}: {err} (please report this)")),))
    return _result(name, exercise, findings, proofs, outcomes)


def _result(name: str, exercise: Exercise, findings, proofs, outcomes, variants: int = 0) -> FileValidation:
    steps = sum(1 for n in exercise.graph.nodes if n.role is Role.STEP)
    return FileValidation(name, exercise.id, exercise.title, tuple(findings), tuple(proofs),
                          tuple(outcomes), steps, len(exercise.asks), variants)


def describe(variant: Variant) -> str:
    picks = ", ".join(f"{name} = {flow_text(node)}" for name, node in variant.picks.items())
    return f"the variant drawn for '{variant.student}': {picks}"


def _validate_template(name: str, root: YMapping, template, limits: Limits) -> FileValidation:
    """Draw the sample students' variants; prove the first ones, lint and test them all."""
    ident = exercise_id(root.get("id"), Path(name).stem)
    build = builder(name, Path(name).stem, limits)
    variants, unmet = [], []
    for student in SAMPLE_STUDENTS:  # a broken template raises here, whatever is drawn
        try:
            variants.append(draw(template, student, ident, "", build, limits))
        except Unsatisfied as err:  # one student without a variant is enough to report
            unmet.append(error(Code.VARIANT, err.problems[0]))
            break
    if not variants:
        return FileValidation(name, ident, findings=tuple(unmet[:1]), variants=len(SAMPLE_STUDENTS))
    merged: dict[tuple, list] = {}
    proofs, runs = [], []
    for k, variant in enumerate(variants):
        solution = Solution(variant.exercise)
        found = lint(variant.exercise, solution)
        if k < PROVED_VARIANTS:
            proved, wrong = prove(variant.exercise, solution, limits)
            proofs += proved if k == 0 else []
            found += wrong
        tested, failures = run_tests(variant.root, variant.exercise, limits, solution)
        runs.append(tested)
        for finding in found + failures:
            key = (finding.code, finding.problem.location, finding.problem.message)
            merged.setdefault(key, [finding, 0, variant])[1] += 1
    findings = unmet[:1] + [_in_variants(f, n, len(variants), v) for f, n, v in merged.values()]
    return _result(name, variants[0].exercise, findings, proofs, _across(runs), len(SAMPLE_STUDENTS))


def _across(runs: list[list[TestOutcome]]) -> list[TestOutcome]:
    """Each question test over every sampled variant: it passes when it passes in all."""
    merged = []
    for outcomes in zip(*runs):
        failing = next((o for o in outcomes if not o.passed), None)
        merged.append(failing or outcomes[0])
    return merged


def _in_variants(finding: Finding, count: int, total: int, example: Variant) -> Finding:
    p = finding.problem
    message = f"{p.message} (in {count} of {total} sampled variants, e.g. {describe(example)})"
    return Finding(finding.severity, finding.code, Problem(message, p.location, p.hint, p.snippet, p.span))
