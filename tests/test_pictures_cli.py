"""explain's picture formats on the command line: options, errors, files; and the notebook API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_runner import invoke

ROOT = Path(__file__).resolve().parent.parent
LINEAR = ROOT / "exercises" / "linear-model.yaml"


def test_entry_goes_with_the_trace_formats_only():
    result = invoke("explain", LINEAR, "--wrt", "w", "--entry", "1,1", "--format", "dot")
    assert result.exit_code == 2 and "--entry goes with --format text, markdown or json" in result.stderr


def test_standalone_goes_with_latex():
    result = invoke("explain", LINEAR, "--standalone", "--format", "dot")
    assert result.exit_code == 2 and "--standalone goes with --format latex" in result.stderr


def test_output_goes_with_the_other_formats(tmp_path):
    result = invoke("explain", LINEAR, "-o", tmp_path / "x.txt")
    assert result.exit_code == 2 and "--output" in result.stderr
    out = tmp_path / "graph.mmd"
    result = invoke("explain", LINEAR, "--format", "mermaid", "--output", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text().startswith("flowchart LR\n")


def test_wrt_and_of_are_checked_for_pictures():
    result = invoke("explain", LINEAR, "--format", "dot", "--wrt", "nope")
    assert result.exit_code == 2 and "--wrt nope: there is no given or step called 'nope'" in result.stderr
    result = invoke("explain", LINEAR, "--format", "html", "--of", "nope")
    assert result.exit_code == 2 and "--of nope" in result.stderr


def test_of_an_inner_step_leaves_later_nodes_without_gradient():
    result = invoke("explain", LINEAR, "--format", "mermaid", "--of", "r")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert 'v6["loss"]' in [line.strip() for line in lines]  # loss comes after r: no gradient of r
    assert any(line.strip().startswith('v2["w<br>∂ 1"]') for line in lines)  # dr/dw = x = 1


def test_a_graph_too_big_to_draw(tmp_path):
    path = tmp_path / "big.yaml"
    steps = "".join(f"  a{i}: a{i - 1}*x + x\n" for i in range(1, 250))
    path.write_text(f"backprop: 1\ngiven:\n  x: 1\nsteps:\n  a0: x*x\n{steps}ask: [da249/dx]\n")
    result = invoke("explain", path, "--format", "dot")
    assert result.exit_code == 2 and "too many to draw" in result.stderr and "Traceback" not in result.output
    result = invoke("explain", path, "--format", "html")  # the page still has the trace
    assert result.exit_code == 0 and "too many to draw" in result.stdout and "<svg" not in result.stdout
    result = invoke("explain", path, "--format", "markdown")
    assert result.exit_code == 0 and "```mermaid" not in result.stdout


def test_mermaid_escapes_what_it_reads(tmp_path):
    from backprop_cli.explain.picture import Box, Kind, Picture
    from backprop_cli.render.mermaid import render_mermaid

    box = Box("v0", Kind.GIVEN, 'a"b#c<d>|', "x")
    text = render_mermaid(Picture("t", "f", None, (box,)))
    assert 'v0["a#quot;b#35;c#lt;d#gt;#124;"]' in text


def test_importing_the_package_stays_cheap():
    code = ("import sys, backprop_cli; assert 'sympy' not in sys.modules, 'sympy imported'; "
            "from backprop_cli import load, check, explanation; assert 'sympy' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_notebook_api_returns_the_records_and_their_pages():
    from backprop_cli import check, explanation, load
    from backprop_cli.api import page
    from backprop_cli.grading.pipeline import CheckRun
    from backprop_cli.grading.results import Explanation, FileResult

    exercise = load(LINEAR)
    shown = explanation(exercise, wrt="w")
    assert isinstance(shown, Explanation) and shown.picture is not None and shown.picture.wrt == "w"
    html = page(shown)
    assert html.startswith('<div class="backprop">') and "<svg" in html and "<!DOCTYPE" not in html
    assert 'id="bp' in html and page(shown) != html  # fresh ids: a notebook is one document
    result = check(LINEAR, bounded=False)
    assert isinstance(result, FileResult) and result.picture is not None
    assert "Score: 0/8" in page(result)  # the file has no answers yet
    run = check([LINEAR, ROOT / "exercises" / "fan-out.yaml"], bounded=False)
    assert isinstance(run, CheckRun) and page(run).count("<svg") == 2


def test_a_running_ipython_is_taught_to_draw_the_records():
    from backprop_cli.api import page, show_in_ipython
    from backprop_cli.grading.pipeline import CheckRun
    from backprop_cli.grading.results import Explanation, FileResult

    class Formatter:
        def __init__(self):
            self.types = {}

        def for_type(self, kind, function):
            self.types[kind] = function

    class Shell:
        def __init__(self):
            self.html = Formatter()
            self.display_formatter = type("Display", (), {"formatters": {"text/html": self.html}})()

    shell = Shell()
    assert show_in_ipython(shell)
    assert shell.html.types == {FileResult: page, CheckRun: page, Explanation: page}
    assert not show_in_ipython() or "IPython" in sys.modules  # outside IPython: nothing to do
