"""``list``: the exercises in a folder, one row each."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from backprop_cli.authoring.questiontests import run_tests
from backprop_cli.autodiff.tensor import is_tensor
from backprop_cli.exercise.load import builder, exercise_from_tree, exercise_id
from backprop_cli.exercise.variants import SAMPLE_STUDENTS, draw, read_template
from backprop_cli.source.errors import BackpropError
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import load_file

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class CatalogRow:
    file: str
    id: str | None = None
    title: str | None = None
    asks: int = 0
    tensors: bool = False
    training: bool = False
    variants: bool = False  # a template for per-student variants
    tests_passed: int = 0
    tests_total: int = 0
    tests_broken: bool = False  # the `tests:` block cannot be read
    error: str | None = None  # why the file cannot be used


def catalog(folder: str | os.PathLike, limits: Limits = DEFAULT) -> list[CatalogRow]:
    """A row per exercise file (*.yaml, *.yml) directly in ``folder``, by name."""
    path = Path(folder)
    if not path.is_dir():
        raise BackpropError(f"{folder}: {'not a folder' if path.exists() else 'no such folder'}")
    files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    return [_row(p, limits) for p in files]


def _row(path: Path, limits: Limits) -> CatalogRow:
    name = str(path)
    try:
        root = load_file(path, limits)
        template = read_template(root, limits)
        variants = template is not None and template.makes_variants
        if variants:  # a template is described by its first sample variant
            drawn = draw(template, SAMPLE_STUDENTS[0], exercise_id(root.get("id"), path.stem), "",
                         builder(name, path.stem, limits), limits)
            root, exercise = drawn.root, drawn.exercise
        else:
            exercise = exercise_from_tree(root, name, path.stem, limits)
    except BackpropError as err:
        return CatalogRow(name, error=err.problems[0].render().splitlines()[0])
    outcomes, failures = run_tests(root, exercise, limits)
    return CatalogRow(name, exercise.id, exercise.title, len(exercise.asks),
                      any(is_tensor(v) for v in exercise.values.values()), exercise.training is not None,
                      variants, sum(o.passed for o in outcomes), len(outcomes),
                      bool(failures) and not outcomes)
