"""Whole plain-text outputs compared with golden files (tests/data/golden).

Regenerate after an intended change with ``BACKPROP_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from backprop_cli.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden"
ENV = {"NO_COLOR": "1", "COLUMNS": "100"}

WRONG = """
answers:
  y_hat: 1
  r: -1
  loss: 1
  dloss/dr: -2
  dr/dy_hat: 1
  dy_hat/dw: 1
  dloss/dy_hat: -2
  dloss/dw: -8
"""

CASES = {
    "explain-linear-model.txt": ["explain", "exercises/linear-model.yaml"],
    "explain-fan-out.txt": ["explain", "exercises/fan-out.yaml"],
    "explain-scalar-product.txt": ["explain", "exercises/scalar-product.yaml"],
    "explain-sigmoid-chain.txt": ["explain", "exercises/sigmoid-chain.yaml"],
    "explain-sigmoid-chain-wrt-w1.txt": ["explain", "exercises/sigmoid-chain.yaml", "--wrt", "w1"],
    "explain-linear-model.md": ["explain", "exercises/linear-model.yaml", "--format", "markdown"],
    "explain-expr.txt": ["explain", "--expr", "f = x*y + sin(x) + tanh(x*x)", "--given", "x=2",
                         "--given", "y=3"],
    "check-linear-model-wrong.txt": ["check", "WRONG"],
    "check-linear-model-wrong-verbose.txt": ["check", "WRONG", "--verbose"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = list(CASES[name])
    if "WRONG" in args:
        filled = tmp_path / "linear-model.yaml"
        filled.write_text((ROOT / "exercises/linear-model.yaml").read_text() + WRONG)
        args[args.index("WRONG")] = str(filled)
    result = CliRunner().invoke(main, args, env=ENV)
    output = result.stdout.replace(str(tmp_path) + os.sep, "")
    path = GOLDEN / name
    if os.environ.get("BACKPROP_UPDATE_GOLDEN"):
        path.write_text(output)
    assert result.exit_code in (0, 1), result.output
    assert output == path.read_text()
