"""A corpus of hostile inputs, each with the safe outcome it must get.

Exercise files come from colleagues and the internet, answers from students: none of
it may run code, hang the grader, exhaust its memory, or cost the other answers and
files their grades.  Every case here checks, for its route:

- no code ran: the payloads try to create or write a file ``CANARY`` in the working
  directory (a fresh ``tmp_path``), and no file at all may appear there;
- the exit code (SPEC.md section 4) and, via ``--format json``, each item's status;
- a readable message: no Python traceback, no "internal error", and the message names
  ``file:line:col`` (or, for a stopped answer, the limit it crossed);
- no hang: commands that could conceivably hang run in a subprocess (its own session,
  killed as a group) under a generous ``timeout`` that is only a hang guard; no test
  asserts on a measured duration.

To keep the suite fast, most hostile strings are the answers of ONE exercise file
(one student answer key each), graded by one ``check``; exercise-level attacks are
one small file each, but all of them go through one ``check`` and one ``validate``.
The static YAML attack files live in ``tests/data/hostile/``; big ones (a 1 MiB file,
100000 brackets) are generated into ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from backprop_cli.cli import main
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "hostile"
EXERCISES = ROOT / "exercises"

HANG_GUARD = 30.0  # seconds; only a guard against hangs, never a timing assertion
MEMORY_CAP = 6 << 30  # address-space cap of every subprocess (a safety net for this machine)
CANARY = "CANARY"
LOCATED = r"(?P<line>\d+):(?P<col>\d+)"


# ----------------------------------------------------------------------------- helpers

def _cap_memory() -> None:  # runs in the child between fork and exec
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    except (ImportError, ValueError, OSError):
        pass


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update(NO_COLOR="1", COLUMNS="120", PYTHONIOENCODING="utf-8")
    return env


@dataclass
class Run:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (f"backprop {' '.join(a if len(a) < 200 else a[:60] + '...' for a in self.args)}\n"
                f"--- exit {self.code}\n--- stdout:\n{self.stdout[:6000]}\n--- stderr:\n{self.stderr[:6000]}")

    def json(self) -> dict:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"stdout is not JSON:\n{self}")

    def exercise(self, file: str) -> dict:
        found = [e for e in self.json()["exercises"] if Path(e["file"]).name == file]
        assert len(found) == 1, f"{file} is not reported exactly once:\n{self}"
        return found[0]

    def item(self, file: str, key: str) -> dict:
        exercise = self.exercise(file)
        found = [i for i in exercise["items"] if i["key"] == key]
        assert len(found) == 1, f"{file}: item {key} is not reported exactly once:\n{self}"
        return found[0]


def start(*args, cwd: Path) -> subprocess.Popen:
    """``python -m backprop_cli ARGS`` in its own session (so a hang is killed with its children)."""
    return subprocess.Popen([sys.executable, "-m", "backprop_cli", *map(str, args)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            encoding="utf-8", errors="replace", env=_environment(),
                            start_new_session=True, preexec_fn=_cap_memory)


def finish(proc: subprocess.Popen, timeout: float = HANG_GUARD) -> Run:
    """Wait for ``proc``; past ``timeout`` kill its whole process group and fail as a hang."""
    args = tuple(proc.args[3:])
    try:
        out, err = proc.communicate(timeout=max(0.1, timeout))
    except subprocess.TimeoutExpired:
        _kill_group(proc)  # the command and the graders it forked
        out, err = proc.communicate()
        pytest.fail(f"HANG: `backprop {' '.join(a[:80] for a in args)}` was still running after the "
                    f"{HANG_GUARD:g} s hang guard (killed)\n--- stdout:\n{out[:3000]}\n--- stderr:\n{err[:3000]}")
    return Run(args, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the session ``start`` created; called only while its leader is not yet reaped."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def backprop(*args, cwd: Path, timeout: float = HANG_GUARD) -> Run:
    return finish(start(*args, cwd=cwd), timeout)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_safe(run: Run, workdir: Path, before: list[str]) -> None:
    """No traceback, no internal error, and nothing written into the working directory."""
    both = run.stdout + run.stderr
    assert "Traceback" not in both, str(run)
    assert "internal error" not in both, str(run)
    assert not (workdir / CANARY).exists(), f"a payload ran: {CANARY} was created\n{run}"
    assert listing(workdir) == before, f"files appeared in the working directory\n{run}"


def assert_located(message: str | None, file: str, lines: tuple[int, int] | None = None) -> None:
    """The message names ``file:line:col`` (with the line inside ``lines``, inclusive)."""
    assert message, f"no message for a problem in {file}"
    assert "Traceback" not in message and "internal error" not in message, message
    m = re.search(re.escape(file) + ":" + LOCATED, message)
    assert m, f"the message does not name {file}:line:col:\n{message}"
    if lines is not None:
        low, high = lines
        assert low <= int(m["line"]) <= high, f"expected a line in {low}..{high}:\n{message}"


def write_answers_exercise(path: Path, answers: dict, step: str = "x * w",
                           extra: str = "") -> dict[str, tuple[int, int]]:
    """An exercise with one step per answer key (each step is ``x*w`` = 6, x=2, w=3).

    Each answer is dumped on its own, so the lines it occupies are known: the map
    returned gives, per key, the first and last line of its answer.
    """
    head = ["backprop: 1", "given:", "  x: 2", "  w: 3", "steps:"]
    head += [f"  {key}: {step}" for key in answers]
    head += ["ask:"] + [f"  - {key}" for key in answers]
    lines = head + ([extra] if extra else []) + ["answers:"]
    where = {}
    for key, answer in answers.items():
        chunk = yaml.safe_dump({key: answer}, width=1 << 30, allow_unicode=True,
                               default_flow_style=False, sort_keys=False).splitlines()
        first = len(lines) + 1
        lines += ["  " + line for line in chunk]
        where[key] = (first, len(lines))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return where


# ------------------------------------------------------------- answers: the main corpus

@dataclass(frozen=True)
class Answer:
    id: str
    answer: object  # the student's answer as YAML will hold it (a string, a list, None...)
    status: str = "invalid"

    @property
    def key(self) -> str:
        return "k_" + self.id


ANSWERS = [
    # code injection: every route into Python or SymPy must be refused, never evaluated
    Answer("dunder_import_system", "__import__('os').system('touch CANARY')"),
    Answer("dunder_import_open", "__import__('builtins').open('CANARY', 'w')"),
    Answer("subclasses_chain", "().__class__.__bases__[0].__subclasses__()"),
    Answer("name_dunder_class", "x.__class__"),
    Answer("function_globals", "sigmoid.__globals__['__builtins__']"),
    Answer("transpose_then_dunder", "x.T.__class__.__init__.__globals__"),
    Answer("bare_dunder_name", "__builtins__"),
    Answer("exec_call", "exec(\"open('CANARY', 'w')\")"),
    Answer("eval_call", "eval(\"__import__('os').system('touch CANARY')\")"),
    Answer("compile_call", "compile('1', 'f', 'eval')"),
    Answer("getattr_call", "getattr(x, '__class__')"),
    Answer("lambda", "lambda: 0"),
    Answer("lambda_called", "(lambda: open('CANARY', 'w'))()"),
    Answer("list_comprehension", "[open('CANARY', 'w') for i in [1]]"),
    Answer("set_comprehension", "{open('CANARY', 'w') for i in [1]}"),
    Answer("dict_comprehension", "{i: open('CANARY', 'w') for i in [1]}"),
    Answer("generator_expression", "sum(open('CANARY', 'w') for i in [1])"),
    Answer("f_string", "f\"{open('CANARY', 'w')}\""),
    Answer("string", "'6'"),
    Answer("bytes", "b'6'"),
    Answer("open_call", "open('CANARY', 'w')"),
    Answer("walrus", "(k := 6)"),
    Answer("subscript", "x[0]"),
    Answer("keyword_to_function", "max(x, w, key=open)"),
    Answer("starred_arguments", "max(*[6, 6])"),
    Answer("double_starred_arguments", "max(**{'a': 6})"),
    Answer("conditional", "6 if open('CANARY', 'w') else 6"),
    Answer("comparison", "6 == 6"),
    Answer("boolean_operator", "6 or open('CANARY', 'w')"),
    Answer("true_literal", "True"),
    Answer("none_literal", "None"),
    Answer("yield", "(yield 6)"),
    Answer("await", "await x"),
    Answer("semicolon_statement", "6; import os"),
    Answer("newline_statement", "6\nimport os"),
    Answer("import_statement", "import os"),
    Answer("comment", "6 # open('CANARY', 'w')"),
    Answer("backslash_continuation", "6 \\\n+ 0"),
    # SymPy internals are not names an answer may use, nor functions it may call
    Answer("sympy_Symbol_call", "Symbol('x')"),
    Answer("sympy_sympify_call", "sympify(\"__import__('os').system('touch CANARY')\")"),
    Answer("sympy_Function_call", "Function('f')(x)"),
    Answer("sympy_S_call", "S('6')"),
    Answer("sympy_S_name", "S"),
    Answer("sympy_E_name", "E"),
    Answer("sympy_I_name", "6 + 0*I"),
    Answer("sympy_oo_name", "oo"),
    Answer("sympy_zoo_name", "zoo"),
    Answer("sympy_nan_name", "nan"),
    Answer("sympy_Integer_call", "Integer(6)"),
    Answer("sympy_Rational_call", "Rational(12, 2)"),
    # power and factorial bombs
    Answer("power_tower", "9**9**9**9"),
    Answer("power_of_power", "2**(10**10)"),
    Answer("power_of_givens", "(x+w+1)**100000"),
    Answer("power_literal", "10**100000"),
    Answer("power_negative", "2**-100000"),
    Answer("power_decimal_exponent", "1e100**1e100"),
    Answer("factorial_call", "factorial(100000)"),
    Answer("factorial_bang", "x!"),
    # huge literals
    Answer("float_exponent", "1e1000000"),
    Answer("float_exponent_negative", "1e-1000000"),
    Answer("int_5000_digits", "1" * 5000),
    Answer("int_1999_digits", "1" * 1999),
    Answer("decimal_one_and_100_zeros", "1" + "0" * 100 + ".0"),
    Answer("decimal_tiny_101_digits", "0." + "0" * 99 + "1"),
    Answer("int_100_digits_wrong", "1" + "0" * 99, "incorrect"),
    Answer("exactly_wrong_by_tiny_rational", "6 + 1/10**1000", "incorrect"),
    Answer("wrong_integer", "7", "incorrect"),
    # deep nesting
    Answer("open_parens_10000", "(" * 10000),
    Answer("open_parens_1999", "(" * 1999),
    Answer("parens_41_deep", "(" * 41 + "6" + ")" * 41),
    Answer("minus_100000", "-" * 100000 + "1"),
    Answer("minus_1999", "-" * 1998 + "6"),
    Answer("sigmoid_500_deep", "sigmoid(" * 500 + "1" + ")" * 500),
    Answer("sigmoid_45_deep", "sigmoid(" * 45 + "1" + ")" * 45),
    Answer("brackets_1000", "[" * 1000),
    # Unicode look-alikes and invisible characters
    Answer("fullwidth_digit", "\uff16"),
    Answer("cyrillic_a_for_x", "\u0445 * w"),
    Answer("cyrillic_a", "\u0430"),
    Answer("zero_width_space_in_number", "6\u200b0"),
    Answer("zero_width_joiner", "6\u200d"),
    Answer("rtl_override", "\u202e6"),
    Answer("non_breaking_space", "6\u00a0"),
    Answer("unicode_minus", "\u2212(-6)"),
    Answer("superscript_two", "6\u00b9"),
    Answer("arabic_indic_digit", "\u0666"),
    Answer("combining_mark", "6\u0301"),
    Answer("byte_order_mark", "\ufeff6"),
    # non-decimal and malformed literals
    Answer("hex", "0x10"),
    Answer("octal", "0o7"),
    Answer("binary", "0b1"),
    Answer("underscores", "1_000"),
    Answer("complex", "3j"),
    Answer("dangling_exponent", "1e"),
    Answer("lone_dot", "."),
    Answer("double_dot", "1..2"),
    Answer("two_points", "1.2.3"),
    Answer("leading_zero", "06"),
    Answer("infinity_word", "inf"),
    Answer("empty_string", ""),
    Answer("blank_string", "   "),
    # tensors
    Answer("ragged_matrix", [[1, 2], [3]]),
    Answer("three_d_list", [[[6]]]),
    Answer("empty_list", []),
    Answer("empty_rows", [[]]),
    Answer("list_of_strings", ["__import__('os').system('touch CANARY')"]),
    Answer("mixed_list_and_number", [6, [6]]),
    Answer("mapping_answer", {"a": 6}),
    Answer("matrix_200x200", [[1] * 200 for _ in range(200)]),
    Answer("matrix_100x100_wrong_shape", [[6] * 100 for _ in range(100)], "incorrect"),
    # YAML-level values in an answer
    Answer("yaml11_yes", "yes"),
    Answer("null_is_missing", None, "missing"),
    # the grader still grades: these are right
    Answer("decimal_right", "6.0", "correct"),
    Answer("exponent_right", ".6e1", "correct"),
    Answer("fraction_right", "12/2", "correct"),
    Answer("big_cancelling_power_right", "2**1000/2**1000*6", "correct"),
    Answer("givens_right", "x*w", "correct"),
]

FORMULA_FILE = "formula_answers.yaml"
FORMULA_TEXT = """\
backprop: 1
given:
  x: 2
  w: 3
  y: 1
steps:
  y_hat: x * w
  r: y_hat - y
  loss: r**2
ask:
  - {key: dloss/dw, form: formula}
  - {key: dloss/dx, form: formula}
  - {key: dloss/dy, form: formula}
  - loss
answers:
  dloss/dw: "(x+w+y+1)**1000 - (x+w+y+1)**1000 + 2*x*(x*w - y)"
  dloss/dx: "__import__('os').system('touch CANARY')"
  dloss/dy: "Symbol('y') * 0 + sympify('-2*(x*w - y)')"
  loss: 25
"""


@dataclass
class Graded:
    run: Run
    workdir: Path
    before: list[str]
    lines: dict[str, dict[str, tuple[int, int]]]  # file -> key -> (first, last) line


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    """One ``check`` of every answer-route file: the corpus, the long answers, formulas."""
    work = tmp_path_factory.mktemp("answers")
    lines = {"hostile_answers.yaml": write_answers_exercise(
        work / "hostile_answers.yaml", {a.key: a.answer for a in ANSWERS})}
    # a 1 MB answer (the file stays under the 1 MiB file limit), and 100000-term sums
    lines["long_answer_1mb.yaml"] = write_answers_exercise(
        work / "long_answer_1mb.yaml", {"huge": "1" * 1_000_000, "ok": 6})
    lines["long_answer_terms.yaml"] = write_answers_exercise(
        work / "long_answer_terms.yaml",
        {"sum_100000": "+".join(["1"] * 100_000), "minus_100000": "-" * 100_000 + "6",
         "calls_20000": "sigmoid(" * 20_000 + "1" + ")" * 20_000, "ok": 6})
    (work / FORMULA_FILE).write_text(FORMULA_TEXT, encoding="utf-8")
    before = listing(work)
    run = backprop("check", *sorted(lines), FORMULA_FILE, "--format", "json", cwd=work)
    return Graded(run, work, before, lines)


def test_answer_corpus_run_is_safe(graded):
    run = graded.run
    assert_safe(run, graded.workdir, graded.before)
    assert run.code == 1, str(run)  # some answers are invalid or incorrect; every file was usable
    for exercise in run.json()["exercises"]:
        assert exercise["error"] is None, str(run)


@pytest.mark.parametrize("case", ANSWERS, ids=lambda c: c.id)
def test_hostile_answer(graded, case: Answer):
    item = graded.run.item("hostile_answers.yaml", case.key)
    assert item["status"] == case.status, f"{case.id}: {case.answer!r:.200}\n{json.dumps(item)[:2000]}"
    if case.status == "invalid":
        assert_located(item["message"], "hostile_answers.yaml", graded.lines["hostile_answers.yaml"][case.key])


@pytest.mark.parametrize("file, key", [("long_answer_1mb.yaml", "huge"),
                                       ("long_answer_terms.yaml", "sum_100000"),
                                       ("long_answer_terms.yaml", "minus_100000"),
                                       ("long_answer_terms.yaml", "calls_20000")])
def test_very_long_answer(graded, file, key):
    item = graded.run.item(file, key)
    assert item["status"] == "invalid", json.dumps(item)[:2000]
    assert_located(item["message"], file, graded.lines[file][key])
    assert graded.run.item(file, "ok")["status"] == "correct"  # the rest of the file is graded


def test_formula_answers(graded):
    run = graded.run
    assert run.item(FORMULA_FILE, "dloss/dw")["status"] == "correct"  # a big power that cancels
    for key, line in (("dloss/dx", 17), ("dloss/dy", 18)):
        item = run.item(FORMULA_FILE, key)
        assert item["status"] == "invalid", json.dumps(item)
        assert_located(item["message"], FORMULA_FILE, (line, line))
    assert run.item(FORMULA_FILE, "loss")["status"] == "correct"


# ------------------------------------------------- exercise files: steps, givens, other fields

STEP_ATTACKS = {
    "dunder_import_system": "__import__('os').system('touch CANARY')",
    "subclasses_chain": "().__class__.__bases__[0].__subclasses__()",
    "name_dunder_class": "x.__class__",
    "bare_dunder_name": "__builtins__",
    "exec_call": "exec(\"open('CANARY', 'w')\")",
    "eval_call": "eval(\"open('CANARY', 'w')\")",
    "lambda_called": "(lambda: open('CANARY', 'w'))()",
    "list_comprehension": "[open('CANARY', 'w') for i in [1]]",
    "generator_expression": "sum(open('CANARY', 'w') for i in [1])",
    "f_string": "f\"{open('CANARY', 'w')}\"",
    "string": "'CANARY'",
    "open_call": "open('CANARY', 'w')",
    "walrus": "(k := 2)",
    "getattr_call": "getattr(x, '__class__')",
    "breakpoint_call": "breakpoint()",
    "keyword_smuggling": "sigmoid(x, stride=__import__('os'))",
    "semicolon_statement": "x; import os",
    "sympy_Symbol_call": "Symbol('x') * x",
    "sympy_sympify_call": "sympify(\"__import__('os').system('touch CANARY')\")",
    "sympy_Function_call": "Function('f')(x)",
    "sympy_S_call": "S('x')",
    "sympy_E_name": "E * x",
    "sympy_I_name": "I * x",
    "sympy_oo_name": "oo",
    "sympy_zoo_name": "x * zoo",
    "sympy_nan_name": "nan",
    "sympy_Integer_call": "Integer(2) * x",
    "power_tower": "9**9**9**9",
    "power_of_givens": "(x+w+1)**100000",
    "factorial_call": "factorial(100000)",
    "factorial_bang": "x!",
    "float_exponent": "1e1000000 * x",
    "deep_parens": "(" * 100 + "x" + ")" * 100,
    "long_sum": "+".join(["x"] * 1500),
    "fullwidth_digit": "x * \uff12",
    "rtl_override": "x\u202e * w",
    "hex": "0x10 * x",
}

GIVEN_ATTACKS = {
    "dunder_import_system": "__import__('os').system('touch CANARY')",
    "open_call": "open('CANARY', 'w')",
    "sympy_Symbol_call": "Symbol('x')",
    "sympy_E_name": "E",
    "power_tower": "9**9**9**9",
    "name_of_other_given": "w",
    "ragged": [[1, 2], [3]],
    "matrix_200x200": [[1] * 200 for _ in range(200)],
}

FIELD_ATTACKS = {  # other places a value is read: (text after the standard head, line of the value)
    "upstream_injection": ("upstream:\n  L: \"__import__('os').system('touch CANARY')\"\n", 8),
    "tolerance_injection": ("tolerance:\n  rel: \"open('CANARY', 'w')\"\n", 8),
    "points_injection": ("points:\n  a: \"eval('1')\"\n", 8),
    "train_rate_injection": ("train:\n  rate: \"exec('1')\"\n  steps: 1\n  params: [w]\n", 8),
    "train_steps_bomb": ("train:\n  rate: 0.1\n  steps: 10**9\n  params: [w]\n", 9),
    "output_injection": ("output: \"__import__('os')\"\n", 7),
    "ask_injection": ("ask:\n  - \"__import__('os').system('touch CANARY')\"\n", 8),
    "id_injection": ("id: \"$(touch CANARY)\"\n", 7),
    "carry_forward_injection": ("carry_forward: \"open('CANARY', 'w')\"\n", 7),
}


def _exercise_file_cases() -> dict[str, tuple[str, tuple[int, int]]]:
    """file name -> (text, the lines the error must point into)."""
    cases = {}
    for name, expression in STEP_ATTACKS.items():
        step = yaml.safe_dump({"a": expression}, width=1 << 30, allow_unicode=True).rstrip("\n")
        text = f"backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  {step}\n  b: a * w\n"
        cases[f"step_{name}.yaml"] = (text, (6, 6 + step.count("\n")))
    for name, value in GIVEN_ATTACKS.items():
        given = yaml.safe_dump({"x": value}, width=1 << 30, allow_unicode=True, default_flow_style=False)
        given = "\n".join("  " + line for line in given.splitlines())
        text = f"backprop: 1\ngiven:\n{given}\n  w: 3\nsteps:\n  a: x * w\n"
        cases[f"given_{name}.yaml"] = (text, (3, 3 + given.count("\n")))
    head = "backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  a: x * w\n"
    for name, (extra, line) in FIELD_ATTACKS.items():
        cases[f"field_{name}.yaml"] = (head + extra, (line, line))
    return cases


EXERCISE_FILE_CASES = _exercise_file_cases()


@dataclass
class Checked:
    check: Run
    validate: Run
    workdir: Path
    before: list[str]


@pytest.fixture(scope="module")
def exercise_attacks(tmp_path_factory) -> Checked:
    work = tmp_path_factory.mktemp("exercises")
    for name, (text, _) in EXERCISE_FILE_CASES.items():
        (work / name).write_text(text, encoding="utf-8")
    before = listing(work)
    files = sorted(EXERCISE_FILE_CASES)
    check = backprop("check", *files, "--format", "json", cwd=work)
    validate = backprop("validate", *files, cwd=work)
    return Checked(check, validate, work, before)


def test_exercise_attacks_run_is_safe(exercise_attacks):
    for run in (exercise_attacks.check, exercise_attacks.validate):
        assert_safe(run, exercise_attacks.workdir, exercise_attacks.before)
        assert run.code == 2, str(run)


@pytest.mark.parametrize("name", sorted(EXERCISE_FILE_CASES))
def test_hostile_exercise_file(exercise_attacks, name):
    _, lines = EXERCISE_FILE_CASES[name]
    exercise = exercise_attacks.check.exercise(name)
    assert exercise["error"] is not None and exercise["items"] == [], json.dumps(exercise)[:2000]
    assert_located(exercise["error"], name, lines)
    assert_located(exercise_attacks.validate.stderr, name, None)  # validate reports it too


def test_sympy_names_are_plain_user_names(tmp_path):
    """Givens and steps called E, I, oo, S, nan, zoo, Symbol, Integer, sympify are the author's own."""
    text = """\
backprop: 1
given:
  E: 2
  I: 3
  oo: 5
  S: 7
  nan: 11
  zoo: 13
steps:
  Symbol: E * I + oo * S
  Integer: Symbol + nan * zoo
  sympify: Integer * E
ask: [Symbol, Integer, sympify, dsympify/dE, dsympify/dI, dsympify/dzoo]
answers:
  Symbol: 41
  Integer: 184
  sympify: E*I*E + oo*S*E + nan*zoo*E
  dsympify/dE: 190
  dsympify/dI: E*E
  dsympify/dzoo: 22
"""
    (tmp_path / "names.yaml").write_text(text)
    before = listing(tmp_path)
    run = backprop("check", "names.yaml", "--format", "json", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    assert run.code == 0, str(run)
    assert all(i["status"] == "correct" for i in run.exercise("names.yaml")["items"]), str(run)


# --------------------------------------------------------------------- YAML-level attacks

YAML_FILES = {  # file in tests/data/hostile -> the line its error must name
    "tag_python_apply.yaml": 9,
    "tag_python_apply_top.yaml": 1,
    "tag_python_name.yaml": 3,
    "tag_python_new.yaml": 1,
    "tag_python_module.yaml": 3,
    "tag_python_key.yaml": 3,
    "tag_custom.yaml": 3,
    "tag_str.yaml": 3,
    "tag_binary.yaml": 3,
    "tag_directive.yaml": 5,
    "billion_laughs.yaml": 1,
    "recursive_alias.yaml": 2,
    "self_alias.yaml": 1,
    "merge_key.yaml": 1,
    "duplicate_key.yaml": 4,
    "duplicate_top_key.yaml": 6,
    "complex_key.yaml": 3,
    "yaml11_yes.yaml": 8,
    "yaml11_octal.yaml": 3,
    "yaml11_sexagesimal.yaml": 3,
    "yaml11_version.yaml": 1,
    "two_documents.yaml": 8,
    "empty.yaml": 1,
    "blank.yaml": 1,
    "not_a_mapping.yaml": 1,
    "scalar_document.yaml": 1,
    "deep_block.yaml": None,  # somewhere in the too-deep part
    "unclosed_quote.yaml": None,
    "tab_indent.yaml": 3,
    "nul_byte.yaml": 6,
    "control_char.yaml": 6,
    "png_header.yaml": 1,
    "random_bytes.yaml": 1,
    "latin1.yaml": 2,
    "utf16.yaml": 1,
    "bom_then_garbage.yaml": 1,
    "lone_surrogate.yaml": 6,
}
GENERATED_YAML = {  # generated into tmp_path: too big to keep in the repository
    "deep_flow_100000.yaml": 3,  # a given that opens 100000 '['
    "deep_flow_top.yaml": 1,  # a file of 100000 '['
    "deep_flow_mapping.yaml": 1,  # 100000 '{'
    "huge_file.yaml": 1,  # over 1 MiB
    "huge_file_of_aliases.yaml": 1,  # an alias bomb padded past 1 MiB
}
UNREADABLE = ["a_directory.yaml", "does_not_exist.yaml"]  # no line to name: the file is named


def _generate_yaml(work: Path) -> None:
    head = "backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  a: x * w\nask: [a]\n"
    (work / "deep_flow_100000.yaml").write_text(
        "backprop: 1\ngiven:\n  x: " + "[" * 100_000 + "]" * 100_000 + "\nsteps:\n  a: x\n")
    (work / "deep_flow_top.yaml").write_text("[" * 100_000)
    (work / "deep_flow_mapping.yaml").write_text("{a: " * 100_000 + "}" * 100_000 + "\n")
    (work / "huge_file.yaml").write_text(head + "prompt: |\n" + ("  " + "a" * 1000 + "\n") * 1100)
    (work / "huge_file_of_aliases.yaml").write_text(
        "a: &a [1]\n" + "".join(f"b{i}: [*a, *a, *a, *a, *a, *a, *a, *a]\n" for i in range(40_000)))
    (work / "a_directory.yaml").mkdir()


@pytest.fixture(scope="module")
def yaml_attacks(tmp_path_factory) -> Checked:
    work = tmp_path_factory.mktemp("yaml")
    for name in YAML_FILES:
        shutil.copyfile(DATA / name, work / name)
    _generate_yaml(work)
    before = listing(work)
    files = sorted(YAML_FILES) + sorted(GENERATED_YAML) + UNREADABLE
    check = backprop("check", *files, "--format", "json", cwd=work)
    validate = backprop("validate", *files, cwd=work)
    return Checked(check, validate, work, before)


def test_yaml_attacks_run_is_safe(yaml_attacks):
    for run in (yaml_attacks.check, yaml_attacks.validate):
        assert_safe(run, yaml_attacks.workdir, yaml_attacks.before)
        assert run.code == 2, str(run)


@pytest.mark.parametrize("name", sorted(YAML_FILES) + sorted(GENERATED_YAML))
def test_hostile_yaml_file(yaml_attacks, name):
    line = {**YAML_FILES, **GENERATED_YAML}[name]
    exercise = yaml_attacks.check.exercise(name)
    assert exercise["error"] is not None and exercise["items"] == [], json.dumps(exercise)[:2000]
    assert_located(exercise["error"], name, None if line is None else (line, line))
    assert_located(yaml_attacks.validate.stderr, name, None)


@pytest.mark.parametrize("name", UNREADABLE)
def test_unreadable_file(yaml_attacks, name):
    exercise = yaml_attacks.check.exercise(name)
    assert exercise["error"] and name in exercise["error"], json.dumps(exercise)
    assert name in yaml_attacks.validate.stderr


@pytest.mark.parametrize("answers, code, line", [("answers_tag.yaml", 2, 1), ("answers_alias.yaml", 2, 1),
                                                  ("answers_injection.yaml", 1, None)])
def test_hostile_answers_file(tmp_path, monkeypatch, answers, code, line):
    """--answers FILE: the same YAML rules, and the same expression rules, as an exercise."""
    (tmp_path / "ex.yaml").write_text("backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  a: x * w\n"
                                      "  b: a + 1\nask: [a, b]\n")
    shutil.copyfile(DATA / answers, tmp_path / answers)
    monkeypatch.chdir(tmp_path)
    before = listing(tmp_path)
    result = invoke("check", "ex.yaml", "--answers", answers, "--format", "json")
    run = Run(("check", "ex.yaml", "--answers", answers), result.exit_code, result.stdout, result.stderr)
    assert_safe(run, tmp_path, before)
    assert run.code == code, str(run)
    if code == 2:
        assert_located(run.stderr, answers, (line, line))
    else:
        for key, at in (("a", 1), ("b", 2)):
            item = run.item("ex.yaml", key)
            assert item["status"] == "invalid", str(run)
            assert_located(item["message"], answers, (at, at))


@pytest.mark.parametrize("args, where", [
    (["--expr", "__import__('os').system('touch CANARY')", "--given", "x=2"], "--expr"),
    (["--expr", "f = open('CANARY', 'w')"], "--expr"),
    (["--expr", "f = Symbol('x') * x", "--given", "x=2"], "--expr"),
    (["--expr", "f = x*w", "--given", "x=open('CANARY', 'w')", "--given", "w=3"], "--given"),
    (["--expr", "f = x*w", "--given", "x=2", "--given", "w=3", "--upstream", "L=__import__('os')"], "--upstream"),
    (["--expr", "f = 9**9**9**9"], "--expr"),
])
def test_hostile_explain_expr(tmp_path, monkeypatch, args, where):
    monkeypatch.chdir(tmp_path)
    result = invoke("explain", *args)
    run = Run(("explain", *args), result.exit_code, result.stdout, result.stderr)
    assert_safe(run, tmp_path, [])
    assert run.code == 2, str(run)
    assert re.search(re.escape(where) + ":" + LOCATED, run.stderr), str(run)


# ---------------------------------------------------------------------- batch isolation

def test_batch_isolation(tmp_path):
    """Good files are graded right next to hostile and broken ones; exit 2 for the batch."""
    (tmp_path / "good1.yaml").write_text((EXERCISES / "linear-model.yaml").read_text() + (
        "answers:\n  y_hat: 1\n  r: -1\n  loss: 1\n  dloss/dr: -2\n  dr/dy_hat: 1\n"
        "  dy_hat/dw: 1\n  dloss/dy_hat: -2\n  dloss/dw: -2\n"))
    (tmp_path / "good2.yaml").write_text((EXERCISES / "scalar-product.yaml").read_text() + (
        "answers:\n  f: 6\n  dL/dx: 15\n  dL/dw: 10\n"))
    shutil.copyfile(DATA / "tag_python_apply.yaml", tmp_path / "hostile.yaml")
    (tmp_path / "broken.yaml").write_text("backprop: 1\ngiven:\n  x: 1\nsteps:\n  f: x: 2\n")
    before = listing(tmp_path)
    run = backprop("check", "good1.yaml", "hostile.yaml", "good2.yaml", "broken.yaml",
                   "--format", "json", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    assert run.code == 2, str(run)
    assert [Path(e["file"]).name for e in run.json()["exercises"]] == [
        "good1.yaml", "hostile.yaml", "good2.yaml", "broken.yaml"]
    for good, n in (("good1.yaml", 8), ("good2.yaml", 3)):
        exercise = run.exercise(good)
        assert exercise["error"] is None, str(run)
        assert [i["status"] for i in exercise["items"]] == ["correct"] * n, str(run)
        assert exercise["score"] == exercise["max_score"] == n
    for bad, line in (("hostile.yaml", 9), ("broken.yaml", 5)):
        assert_located(run.exercise(bad)["error"], bad, (line, line))


# ------------------------------------------------------------- time and memory limits

MLP_LOSS = 0.00235183212378254
MLP_DB3 = [[-0.0239905574648803]]
MLP_WRONG_DW1 = [[1.5, 2.5], [3.5, 4.5], [5.5, 6.5]]


def _mlp(ask: list[str], answers: dict) -> str:
    text = (EXERCISES / "mlp-2-3-3-1.yaml").read_text()
    text = text[:text.index("\nask:")] + "\n"
    return text + yaml.safe_dump({"ask": ask, "answers": answers}, sort_keys=False)


def test_time_limit_stops_one_answer_and_grades_the_others(tmp_path):
    """A wrong tensor gradient of the 2-3-3-1 network replays many mistakes (about 0.1 s of work);
    a 0.03 s limit stops it, while the cheap items beside it are graded.  Reading and comparing
    the answer fit in its budget, so its verdict stands and the note says what was cut short."""
    (tmp_path / "mlp.yaml").write_text(_mlp(["loss", "dloss/dB3", "dloss/dW1"],
                                            {"loss": MLP_LOSS, "dloss/dB3": MLP_DB3, "dloss/dW1": MLP_WRONG_DW1}))
    before = listing(tmp_path)
    run = backprop("check", "mlp.yaml", "--time-limit", "0.03", "--format", "json", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    assert run.code == 1, str(run)
    slow = run.item("mlp.yaml", "dloss/dW1")
    assert slow["status"] == "incorrect", str(run)
    assert slow["diagnosis"] is None, slow
    assert "0.03" in slow["note"] and "cut short" in slow["note"], slow
    assert run.item("mlp.yaml", "loss")["status"] == "correct", str(run)
    assert run.item("mlp.yaml", "dloss/dB3")["status"] == "correct", str(run)


def test_time_limit_never_turns_a_missing_answer_into_an_invalid_one(tmp_path):
    """Unanswered items are `missing` (SPEC 3), even when building their explanation is slow."""
    asks = ["loss", "dloss/dW3", "dloss/dB3", "dloss/dW2", "dloss/dx2", "dloss/dW1"]
    (tmp_path / "mlp.yaml").write_text(_mlp(asks, {"loss": MLP_LOSS, "dloss/dW1": MLP_WRONG_DW1}))
    before = listing(tmp_path)
    run = backprop("check", "mlp.yaml", "--time-limit", "0.1", "--format", "json", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    assert run.code == 1, str(run)
    assert run.item("mlp.yaml", "loss")["status"] == "correct", str(run)
    for key in ("dloss/dW3", "dloss/dB3", "dloss/dW2", "dloss/dx2"):
        item = run.item("mlp.yaml", key)
        assert item["status"] == "missing", f"{key} has no answer but is reported {item['status']}: {item['message']}"


def test_memory_and_time_bombs_in_answers(tmp_path):
    """((2**1000)**1000)**... passes the per-literal exponent limit; the sandbox must stop it."""
    write_answers_exercise(tmp_path / "bombs.yaml", {
        "memory": "((((2**1000)**1000)**1000)**1000)",
        "slow": "(((((x+w)**1000)**1000)**1000)**1000)",
        "nested_exp": "exp(" * 39 + "1" + ")" * 39,
        "ok": 6,
    })
    before = listing(tmp_path)
    run = backprop("check", "bombs.yaml", "--memory-limit", "300", "--time-limit", "1",
                   "--format", "json", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    assert run.code == 1, str(run)
    memory = run.item("bombs.yaml", "memory")
    assert memory["status"] == "invalid", str(run)
    assert re.search(r"memory|time|longer", memory["message"]), memory
    for key in ("slow", "nested_exp"):
        item = run.item("bombs.yaml", key)
        assert item["status"] in ("invalid", "incorrect"), str(run)
        if item["status"] == "invalid":
            assert item["message"], item
    assert run.item("bombs.yaml", "ok")["status"] == "correct", str(run)


def test_memory_bomb_in_a_step_is_reported_for_the_file(tmp_path):
    (tmp_path / "bomb.yaml").write_text("backprop: 1\ngiven:\n  x: 2\nsteps:\n"
                                        "  a: ((((2**1000)**1000)**1000)**1000)\n  b: a * x\n")
    (tmp_path / "good.yaml").write_text((EXERCISES / "scalar-product.yaml").read_text()
                                        + "answers:\n  f: 6\n  dL/dx: 15\n  dL/dw: 10\n")
    before = listing(tmp_path)
    run = backprop("check", "bomb.yaml", "good.yaml", "--memory-limit", "300", "--format", "json", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    assert run.code == 2, str(run)
    error = run.exercise("bomb.yaml")["error"]
    assert error and "bomb.yaml" in error and re.search(r"memory|too large|limit", error), str(run)
    assert all(i["status"] == "correct" for i in run.exercise("good.yaml")["items"]), str(run)


TIME_BOMB_STEP = "backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  a: (((((x+w)**1000)**1000)**1000)**1000)\n  b: a * x\n"


def test_time_bomb_step_does_not_hang_validate_solve_or_explain(tmp_path):
    """`check` stops a slow exercise after its load limit; the other commands must not hang either."""
    (tmp_path / "slow.yaml").write_text(TIME_BOMB_STEP)
    before = listing(tmp_path)
    commands = {"validate": ["validate", "slow.yaml"], "solve": ["solve", "slow.yaml"],
                "explain": ["explain", "slow.yaml"],
                "explain --expr": ["explain", "--expr", "f = (((((x+w)**1000)**1000)**1000)**1000)",
                                   "--given", "x=2", "--given", "w=3"]}
    procs = {name: start(*args, cwd=tmp_path) for name, args in commands.items()}  # run side by side
    deadline = time.monotonic() + HANG_GUARD
    hung, runs = [], {}
    for name, proc in procs.items():
        try:
            runs[name] = finish(proc, deadline - time.monotonic())
        except pytest.fail.Exception:
            hung.append(name)
    assert not hung, f"still running after the {HANG_GUARD:g} s hang guard (killed): {', '.join(hung)}"
    for name, run in runs.items():
        assert_safe(run, tmp_path, before)
        assert run.code == 2, str(run)
        assert ("slow.yaml" if "--expr" not in name else "--expr") in run.stderr, str(run)


# ------------------------------------------------------- values past CPython's digit limit

def test_answer_past_int_max_str_digits_is_graded(tmp_path):
    """(10**1000)**5 has 5001 digits, past CPython's int-to-str limit (4300): one answer, not the file."""
    (tmp_path / "bigint.yaml").write_text(
        "backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  a: x * w\n  b: a + 1\n  c: x + w\n"
        "ask: [a, b, c]\nanswers:\n  a: (10**1000)**5\n  b: 1/(10**1000)**5\n  c: 5\n")
    before = listing(tmp_path)
    run = backprop("check", "bigint.yaml", "--format", "json", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    exercise = run.exercise("bigint.yaml")
    assert exercise["error"] is None, str(run)
    assert run.code == 1, str(run)
    assert run.item("bigint.yaml", "a")["status"] in ("incorrect", "invalid"), str(run)
    assert run.item("bigint.yaml", "b")["status"] in ("incorrect", "invalid"), str(run)
    assert run.item("bigint.yaml", "c")["status"] == "correct", str(run)


@pytest.mark.parametrize("command", [["check", "--format", "json"], ["solve"], ["explain"], ["validate"]],
                         ids=["check", "solve", "explain", "validate"])
def test_step_value_past_int_max_str_digits(tmp_path, command):
    """A step whose exact value has 5001 digits: shown in decimal, or refused with a location."""
    (tmp_path / "bigstep.yaml").write_text("backprop: 1\ngiven:\n  x: 10\n  w: 3\nsteps:\n"
                                           "  a: (x**1000)**5\n  b: a * w\nask: [a, db/dw]\n"
                                           "answers:\n  a: 7\n  db/dw: 1\n")
    before = listing(tmp_path)
    run = backprop(command[0], "bigstep.yaml", *command[1:], cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    if run.code == 2:
        assert_located(run.stderr + run.stdout, "bigstep.yaml", (6, 6))
    else:
        assert run.code == (1 if command[0] == "check" else 0), str(run)


# ------------------------------------------------------ what the teacher's terminal shows

def test_student_text_cannot_inject_terminal_escapes(tmp_path):
    """Answers and answer keys are student text: --format text must not echo raw ESC/CSI/OSC codes."""
    (tmp_path / "esc.yaml").write_text(
        "backprop: 1\ngiven:\n  x: 2\n  w: 3\nsteps:\n  a: x * w\n  b: a + 1\nask: [a, b]\nanswers:\n"
        "  a: \"\\e[2J\\e]0;pwned\\a6\"\n  b: \"7\\r\\e[32mcorrect\\e[0m\"\n  \"\\e[2Jsneaky\": 1\n")
    before = listing(tmp_path)
    run = backprop("check", "esc.yaml", "--no-color", cwd=tmp_path)
    assert_safe(run, tmp_path, before)
    assert run.code == 1, str(run)
    shown = run.stdout + run.stderr
    assert "\x1b" not in shown and "\x07" not in shown, repr(shown[:3000])
