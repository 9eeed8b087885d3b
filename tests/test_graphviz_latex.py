"""Outputs that need outside programs: PNG and SVG through Graphviz's dot, PDF through pdflatex.

Each test is skipped, with the reason shown, where its program is missing;
the messages for a missing Graphviz are tested everywhere.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from backprop_cli.render import dot as dot_module
from cli_runner import invoke

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ["linear-model", "mlp-2-3-3-1", "conv-stride2", "softmax-classifier"]
needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (Debian package 'graphviz')")
needs_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                    reason="pdflatex is not installed (Debian package 'texlive-latex-base')")


@needs_dot
@pytest.mark.parametrize("name", EXERCISES)
def test_png_through_graphviz(name, tmp_path):
    out = tmp_path / f"{name}.png"
    result = invoke("explain", ROOT / "exercises" / f"{name}.yaml", "--format", "png", "-o", out)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert 300 < width < 12000 and 100 < height < 6000, (width, height)
    assert 5_000 < len(data) < 3_000_000


@needs_dot
def test_svg_through_graphviz(tmp_path):
    result = invoke("explain", ROOT / "exercises/linear-model.yaml", "--format", "svg")
    assert result.exit_code == 0 and "<svg" in result.stdout and "y_hat" in result.stdout
    assert "own layout" not in result.stderr


def test_without_graphviz_png_says_which_package(monkeypatch):
    monkeypatch.setattr(dot_module.shutil, "which", lambda name: None)
    result = invoke("explain", ROOT / "exercises/linear-model.yaml", "--format", "png", "-o", "/dev/null")
    assert result.exit_code == 2
    assert "graphviz" in result.stderr and "apt-get install graphviz" in result.stderr


def test_without_graphviz_svg_is_drawn_by_the_own_layout(monkeypatch):
    monkeypatch.setattr(dot_module.shutil, "which", lambda name: None)
    result = invoke("explain", ROOT / "exercises/linear-model.yaml", "--format", "svg")
    assert result.exit_code == 0
    assert result.stdout.startswith("<?xml") and 'xmlns="http://www.w3.org/2000/svg"' in result.stdout
    assert "'graphviz'" in result.stderr


@needs_pdflatex
@pytest.mark.parametrize("name", EXERCISES)
def test_latex_compiles(name, tmp_path):
    tex = tmp_path / f"{name}.tex"
    result = invoke("explain", ROOT / "exercises" / f"{name}.yaml", "--format", "latex", "--standalone",
                    "-o", tex)
    assert result.exit_code == 0, result.output
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
