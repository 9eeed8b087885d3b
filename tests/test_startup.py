"""Start-up: what each command imports, and the console script's quick exit.

The console script (and ``python -m backprop_cli``) leaves without tearing the
interpreter down once click has finished: these tests run it as a real
process and check that nothing is lost on the way out: every byte of output,
piped or not, and the exit code.  No test here measures time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
FILLED = ROOT / "tests" / "data" / "filled"


def backprop(*args, importtime: bool = False, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "backprop_cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"})


def imported(stderr: str) -> set[str]:
    """Top-level packages named in an ``-X importtime`` report."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check", "--help"], ["solve", "--help"]])
def test_help_and_version_import_neither_sympy_nor_numpy(args):
    proc = backprop(*args, importtime=True)
    assert proc.returncode == 0, proc.stderr
    names = imported(proc.stderr)
    assert "backprop_cli" in names and "click" in names  # the report is really there
    assert not names & {"sympy", "numpy", "mpmath", "rich", "yaml"}, sorted(names)


GRADE_AND_SAY = """
import sys
from backprop_cli.grading import pipeline
run = pipeline.check(sys.argv[1:], bounded=False)
print("numpy" in sys.modules, run.exit_code)
"""


def grade_in_process(path: Path) -> str:
    """Grade in a fresh process (no worker: its imports are its own); whether NumPy came in, and the exit code."""
    proc = subprocess.run([sys.executable, "-c", GRADE_AND_SAY, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_checking_a_scalar_exercise_does_not_import_numpy():
    assert grade_in_process(FILLED / "linear-model-wrong.yaml") == "False 1"
    proc = backprop("check", FILLED / "linear-model-wrong.yaml", importtime=True)
    assert proc.returncode == 1, proc.stderr
    names = imported(proc.stderr)  # the command's own process
    assert "sympy" in names and "numpy" not in names


def test_checking_a_tensor_exercise_imports_numpy_and_grades_it():
    assert grade_in_process(FILLED / "mlp-2-3-3-1-wrong.yaml") == "True 1"
    proc = backprop("check", FILLED / "mlp-2-3-3-1-wrong.yaml", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert '"status": "incorrect"' in proc.stdout


@pytest.mark.parametrize("args, code", [
    (["--version"], 0),
    (["check", FILLED / "linear-model-correct.yaml"], 0),
    (["check", FILLED / "linear-model-wrong.yaml"], 1),
    (["check", FILLED / "linear-model-wrong.yaml", "--format", "json"], 1),
    (["check", "no-such-file.yaml"], 2),
    (["check", "--no-such-option"], 2),
    (["explain", EXERCISES / "mlp-2-3-3-1.yaml"], 0),
    (["solve", EXERCISES / "softmax-classifier.yaml", "--all"], 0),
    (["validate", EXERCISES / "linear-model.yaml", ROOT / "tests" / "data" / "broken" / "bad_id.yaml"], 2),
])
def test_the_process_prints_and_exits_as_the_command_does(args, code):
    """The real process gives the same bytes and exit code as click's own runner."""
    proc = backprop(*args)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    expected = invoke(*args, code=code)
    assert proc.stdout == expected.stdout
    assert proc.stderr == expected.stderr.replace("Usage: backprop", "Usage: python -m backprop_cli") \
        .replace("'backprop ", "'python -m backprop_cli ")


def test_output_larger_than_a_pipe_buffer_arrives_whole(tmp_path):
    files = [FILLED / "linear-model-wrong.yaml"] * 60  # about 100 kB of text, more than a pipe holds
    proc = backprop("check", *files)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.count("Score: 7/8") == 60
    assert proc.stdout.rstrip().endswith("Total: 420/480 over 60 files")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_reader_that_stops_early_does_not_cause_a_traceback(fmt):
    files = " ".join([str(FILLED / "linear-model-wrong.yaml")] * 200)  # far more than a pipe holds
    command = f"{sys.executable} -m backprop_cli check --format {fmt} {files} | head -c 10"
    proc = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert len(proc.stdout) == 10
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


def test_only_the_arrays_module_imports_numpy():
    """NumPy is imported when the first tensor is made (autodiff/arrays.py), never at start-up;
    type checkers may see it (``if TYPE_CHECKING:``)."""
    import ast

    def imports(tree):
        for node in ast.iter_child_nodes(tree):
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
                continue
            if isinstance(node, ast.Import):
                yield node, [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                yield node, [node.module or ""]
            yield from imports(node)

    package = ROOT / "backprop_cli"
    for path in package.rglob("*.py"):
        if path.relative_to(package).as_posix() == "autodiff/arrays.py":
            continue
        for node, names in imports(ast.parse(path.read_text(encoding="utf-8"))):
            assert not any(n.split(".")[0] == "numpy" for n in names), f"{path}:{node.lineno} imports numpy"
