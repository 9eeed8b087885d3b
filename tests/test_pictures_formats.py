"""Every export for the four course exercises (their whole outputs are cases in tests/data/cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import invoke

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ["linear-model", "mlp-2-3-3-1", "conv-stride2", "softmax-classifier"]


@pytest.mark.parametrize("name", EXERCISES)
def test_every_format(name, tmp_path):
    path = ROOT / "exercises" / f"{name}.yaml"
    for fmt in ("dot", "mermaid", "latex", "markdown", "html", "json", "text"):
        result = invoke("explain", path, "--format", fmt)
        assert result.exit_code == 0 and result.stdout.strip(), (fmt, result.output)
    out = tmp_path / f"{name}.svg"
    result = invoke("explain", path, "--format", "svg", "-o", out)  # Graphviz's, or our own layout
    assert result.exit_code == 0 and "<svg" in out.read_text(), result.output


def test_the_cases_cover_every_picture_format_for_every_exercise():
    cases = {p.stem for p in (ROOT / "tests" / "data" / "cases").glob("*.case")}
    for name in EXERCISES:
        for fmt in ("dot", "mermaid", "latex", "markdown"):
            assert f"explain-{name}-{fmt}" in cases
