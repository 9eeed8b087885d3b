"""Golden files for the graph pictures and exports: DOT, Mermaid, LaTeX, Markdown (tests/data/golden/pictures).

Regenerate after an intended change with
``BACKPROP_UPDATE_GOLDEN=1 pytest tests/test_pictures_golden.py`` and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cli_runner import invoke

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden" / "pictures"
EXERCISES = ["linear-model", "mlp-2-3-3-1", "conv-stride2", "softmax-classifier"]
SUFFIX = {"dot": "dot", "mermaid": "mmd", "latex": "tex", "markdown": "md"}

CASES = {f"{name}.{SUFFIX[fmt]}": [f"exercises/{name}.yaml", "--format", fmt]
         for name in EXERCISES for fmt in SUFFIX}
CASES.update({
    "linear-model-wrt-w.dot": ["exercises/linear-model.yaml", "--format", "dot", "--wrt", "w"],
    "linear-model-wrt-w.mmd": ["exercises/linear-model.yaml", "--format", "mermaid", "--wrt", "w"],
    "linear-model-standalone.tex": ["exercises/linear-model.yaml", "--format", "latex", "--standalone"],
    "mlp-2-3-3-1-wrt-W1.tex": ["exercises/mlp-2-3-3-1.yaml", "--format", "latex", "--wrt", "W1"],
    "fan-out.dot": ["exercises/fan-out.yaml", "--format", "dot"],
    "expr.mmd": ["--expr", "f = x*y + sin(x)", "--given", "x=2", "--given", "y=3", "--format", "mermaid"],
})


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("explain", *CASES[name])
    assert result.exit_code == 0, result.output
    path = GOLDEN / name
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()


def test_every_format_for_every_exercise(monkeypatch, tmp_path):
    """Each export is produced for the four course exercises (the PNG and SVG where Graphviz is)."""
    monkeypatch.chdir(ROOT)
    for name in EXERCISES:
        for fmt in ("dot", "mermaid", "latex", "markdown", "html", "json", "text"):
            result = invoke("explain", f"exercises/{name}.yaml", "--format", fmt)
            assert result.exit_code == 0 and result.stdout.strip(), (name, fmt, result.output)
        out = tmp_path / f"{name}.svg"
        result = invoke("explain", f"exercises/{name}.yaml", "--format", "svg", "-o", out)
        assert result.exit_code == 0, result.output
        assert out.read_text().lstrip().startswith("<?xml") or "<svg" in out.read_text()
