"""The package's shape: each stage folder imports only from the stages before it.

A reader goes source → autodiff → exercise → explain → grading → authoring →
render/cli; an import against that flow (say, the engine importing grading) is a
test failure here, not a surprise in review.  Function-level (lazy) imports count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "backprop_cli"
STAGES = ["source", "autodiff", "exercise", "explain", "grading", "authoring", "render", "cli"]
MAX_LINES = 450


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if len(p.relative_to(PACKAGE).parts) > 1)


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every backprop_cli import in the file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def test_every_module_is_in_a_stage():
    assert {p.relative_to(PACKAGE).parts[0] for p in modules()} == set(STAGES)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_forward(path):
    me = STAGES.index(path.relative_to(PACKAGE).parts[0])
    for line, module in imported(path):
        parts = module.split(".")
        if parts[0] != "backprop_cli" or len(parts) < 2 or parts[1] not in STAGES:
            continue
        assert STAGES.index(parts[1]) <= me, (
            f"{path.relative_to(PACKAGE)}:{line} imports {module}, a later stage than {STAGES[me]}")


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_outer_stages_know_the_terminal(path):
    """The library never prints: click and rich belong to render/ and cli/."""
    if path.relative_to(PACKAGE).parts[0] in ("render", "cli"):
        return
    for line, module in imported(path):
        assert module.split(".")[0] not in ("click", "rich"), f"{path}:{line} imports {module}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_readable(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"
