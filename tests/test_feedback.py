"""Focused feedback: ``check`` shows the way to the wrong thing, within a line budget.

The budgets are the issue's: one wrong entry of dloss/dW2 in the 2-3-3-1 network fits in
35 lines of at most 100 characters; three wrong answers in any shipped exercise fit in 80.
``--verbose`` keeps the whole slice of the trace; ``--max-lines`` caps the output.
Every check here runs with a generous time limit, so that a loaded machine cannot turn an
explanation into a timeout.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path

import pytest

from backprop_cli.autodiff.numbers import shown
from backprop_cli.autodiff.tensor import is_tensor
from backprop_cli.grading import pipeline
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.yaml"))
MLP = ROOT / "exercises" / "mlp-2-3-3-1.yaml"
SLOW_OK = ("--time-limit", "120")
WIDTH = 100


@functools.lru_cache(maxsize=None)
def solved(path: Path) -> list:
    """(key, exact right value) pairs of an exercise's asks (the mlp takes a while to solve)."""
    from backprop_cli.grading.solver import Solution

    exercise = pipeline.load(path)
    solution = Solution(exercise)
    return [(ask.key, solution.expected(ask.key)) for ask in exercise.asks]


def check(*args, code=1):
    result = invoke("check", *args, *SLOW_OK)
    assert result.exit_code == code, result.output
    return result.stdout


def answers_file(path: Path, folder: Path, wrong: dict[str, object]) -> Path:
    """The exercise's key, with some answers replaced, as an answers file in ``folder``."""
    lines = []
    for key, value in solved(path):
        text = wrong.get(str(key), shown(value))
        lines.append(f"{json.dumps(str(key))}: {json.dumps(text)}")
    out = folder / f"{path.stem}-answers.yaml"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def off_by_one(path: Path, keys: list[str]) -> dict[str, object]:
    """Each of ``keys`` answered 1 too high (every entry of a tensor)."""
    values = {str(k): v for k, v in solved(path)}
    return {k: ([[shown(e + 1) for e in row] for row in values[k]] if is_tensor(values[k])
                else shown(values[k] + 1)) for k in keys}


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Work in a temporary folder with relative paths, so that no long path lengthens a line."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lines_of(out: str) -> list[str]:
    return out.rstrip("\n").split("\n")


def test_one_wrong_entry_of_dW2_fits_in_35_lines(here):
    shutil.copy(MLP, "mlp.yaml")
    key = solved(MLP)
    dW2 = [[shown(e) for e in row] for row in dict((str(k), v) for k, v in key)["dloss/dW2"]]
    dW2[2][2] = "-0.0004"  # W2[3,3]: -0.000359... is right
    answers = answers_file(MLP, here, {"dloss/dW2": dW2})
    out = check("mlp.yaml", "--answers", answers.name)
    lines = lines_of(out)
    assert len(lines) <= 35, out
    assert max(len(line) for line in lines) <= WIDTH, out
    # the grid, the chain of the wrong entry, and the command for the rest
    assert "✗ -0.0004 → -0.0003590624" in out
    assert "How to get dloss/dW2 at W2[3,3] (the first wrong entry):" in out
    assert re.search(r"^∂loss/∂W2\[3,3\] = ∂loss/∂z2\[3\] · ∂z2\[3\]/∂W2\[3,3\]$", out, re.M), out
    assert "backprop explain mlp.yaml --wrt W2 --entry ROW,COL" in out
    assert "backprop check --verbose mlp.yaml" in out
    # nothing of the whole pass: no forward table, no other entry, no internal parts
    assert "Forward pass" not in out and "Backward pass" not in out
    assert "W2[1,1]" not in out and "[3,1]" not in out
    assert not re.search(r"\b(z1_1|z2_1|z3_1|loss_1)\b", out), out


def one_wrong_entry(path: Path, key: str, value: str) -> dict:
    """``key``'s right answer with its first entry replaced by ``value``."""
    right = dict((str(k), v) for k, v in solved(path))
    rows = [[shown(e) for e in row] for row in right[key]]
    rows[0][0] = value
    return {key: rows}


def test_verbose_keeps_the_whole_trace(here):
    shutil.copy(MLP, "mlp.yaml")
    answers = answers_file(MLP, here, one_wrong_entry(MLP, "dloss/dW2", "0.9994448"))
    focused = check("mlp.yaml", "--answers", answers.name)
    for flag in ("--verbose", "-v"):
        out = check("mlp.yaml", "--answers", answers.name, flag)
        assert "Forward pass" in out and "Backward pass" in out
        assert "∂loss/∂W2 (3x3) = ∂loss/∂z2_1 (3x1) @ x2.T (1x3)" in out  # matrix form, every node
        assert "→ -0.000555153207689491" in out  # expected values in full
        assert len(lines_of(out)) > len(lines_of(focused))


def spread(asks: list[str]) -> list[list[str]]:
    """Three asks to answer wrong: the last three, and the first, middle and last."""
    n = len(asks)
    picks = [asks[-3:], [asks[0], asks[n // 2], asks[-1]]]
    return [p for i, p in enumerate(picks) if len(set(p)) == 3 and p not in picks[:i]]


CASES = [pytest.param(path, keys, id=f"{path.stem}:{','.join(keys)}")
         for path in EXERCISES for keys in spread([str(k) for k, _ in solved(path)])]


def parts_of(path: Path) -> list[str]:
    from backprop_cli.autodiff.graph import Role

    return [n.name for n in pipeline.load(path).graph.nodes if n.role is Role.PART]


@pytest.mark.parametrize("path,keys", CASES)
def test_three_wrong_answers_fit_in_80_lines(path, keys, here):
    shutil.copy(path, path.name)
    answers = answers_file(path, here, off_by_one(path, keys))
    out = check(path.name, "--answers", answers.name)
    lines = lines_of(out)
    assert len(lines) <= 80, out
    commands = [line for line in lines if "backprop " in line]  # whole, to be copied
    assert max(len(line) for line in lines if line not in commands) <= WIDTH, out
    for key in keys:
        assert re.search(rf"✗ incorrect {re.escape(key)}\b", out), out
    for part in parts_of(path):  # the engine's names for the parts of a step never appear
        assert not re.search(rf"(?<![\w\[]){re.escape(part)}(?![\w])", out), (part, out)


def test_max_lines_caps_the_output(here):
    shutil.copy(MLP, "mlp.yaml")
    answers = answers_file(MLP, here, off_by_one(MLP, ["dloss/dW2", "dloss/dW1"]))
    whole = lines_of(check("mlp.yaml", "--answers", answers.name))
    capped = lines_of(check("mlp.yaml", "--answers", answers.name, "--max-lines", "12"))
    assert len(capped) == 12
    assert capped[:11] == whole[:11]
    assert capped[-1] == f"… {len(whole) - 11} more lines (raise --max-lines, or 0 for no limit)"
    assert lines_of(check("mlp.yaml", "--answers", answers.name, "--max-lines", "0")) == whole
    assert lines_of(check("mlp.yaml", "--answers", answers.name, "--max-lines", str(len(whole)))) == whole


def test_max_lines_must_be_a_count():
    result = invoke("check", MLP, "--max-lines", "-3")
    assert result.exit_code == 2 and "--max-lines" in result.output


def test_later_answers_do_not_repeat_the_lines_already_shown(here):
    shutil.copy(MLP, "mlp.yaml")
    answers = answers_file(MLP, here, off_by_one(MLP, ["dloss/dW2", "dloss/dW1"]))
    out = check("mlp.yaml", "--answers", answers.name)
    targets = re.findall(r"^(∂\S+) = ", out, re.M)
    assert len(targets) == len(set(targets)), out
    assert "shown above are not repeated" in out


def test_a_missing_answer_gives_nothing_away(here):
    shutil.copy(MLP, "mlp.yaml")
    out = check("mlp.yaml")  # the shipped exercise has no answers yet
    assert "no answer yet" in out
    assert "expected" not in out and "∂" not in out and "→" not in out
    for key, value in solved(MLP):
        first = shown(value)[0][0] if is_tensor(value) else shown(value)
        assert first not in out


def test_a_scalar_chain_folds_the_parts_of_a_step(here):
    """sigmoid-chain's C: (a2 - y)**2 and z1: w1*x + b1 are one step each in the feedback."""
    path = ROOT / "exercises" / "sigmoid-chain.yaml"
    shutil.copy(path, path.name)
    answers = answers_file(path, here, {"dC/dw1": "1/2"})
    out = check(path.name, "--answers", answers.name)
    assert "∂C/∂a2 = ∂C/∂C · ∂C/∂a2" in out
    assert "= 1 · (2*(a2 - y))   with a2 = 1/2 ≈ 0.5, y = 1" in out
    assert "∂C/∂w1 = ∂C/∂z1 · ∂z1/∂w1" in out  # z1_1 = w1*x folded into z1 = w1*x + b1
    assert not re.search(r"\b(C_1|z1_1|z2_1)\b", out), out
    # the path to w1 only: b1, b2, w2 and y are off it
    assert not re.search(r"^∂C/∂(b1|b2|w2|y) ", out, re.M), out


def test_a_wrong_value_shows_the_steps_it_depends_on_once(here):
    path = ROOT / "exercises" / "sigmoid-chain.yaml"
    shutil.copy(path, path.name)
    answers = answers_file(path, here, {"a1": "1", "a2": "1", "C": "1"})
    out = check(path.name, "--answers", answers.name)
    assert out.count("Forward pass") == 1
    table = out.split("Forward pass", 1)[1]
    assert re.search(r"^z1 +w1\*x \+ b1 +0 *$", table, re.M), out  # as written, parts folded in
    assert re.search(r"^C +\(a2 - y\)\*\*2 +1/4 ≈ 0\.25 *$", table, re.M), out
    assert not re.search(r"^(x|w1|C_1|z1_1) ", table, re.M), out  # steps only


# ------------------------------------------------------------------ sentences in the exercise's words

def _candidates(path: Path):
    from backprop_cli.autodiff.graph import Role
    from backprop_cli.exercise.keys import GradKey, ValueKey
    from backprop_cli.grading.diagnosis import StudentWork, candidates
    from backprop_cli.grading.solver import Solution

    exercise = pipeline.load(path)
    solution = Solution(exercise)
    parts = {n.name for n in exercise.graph.nodes if n.role is Role.PART}
    work = StudentWork({ValueKey(n.name): exercise.values[n] for n in exercise.graph.nodes
                        if n.role is Role.STEP}, set())
    for ask in exercise.asks:
        if isinstance(ask.key, GradKey):
            for candidate in candidates(solution, ask.key, work):
                yield parts, candidate


@pytest.mark.parametrize("path", [p for p in EXERCISES if "train" not in p.stem], ids=lambda p: p.stem)
def test_feedback_never_names_a_part_of_a_step(path):
    """The engine's names for the parts of a step (loss_1, z1_1) appear in no sentence."""
    for parts, candidate in _candidates(path):
        named = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", candidate.feedback)) & parts
        assert not named, (candidate.code, candidate.feedback)


def test_missing_factor_speaks_in_the_authors_words():
    """The square of step 'C: (a2 - y)**2' is d/d(a2 - y), never d/dC_1."""
    sentences = {c.feedback for _, c in _candidates(ROOT / "exercises" / "sigmoid-chain.yaml")
                 if c.code == "missing-factor"}
    assert "your answer leaves out dC/d(a2 - y) = 2*(a2 - y) = -1, in step 'C'" in sentences
    assert "your answer leaves out the factor 2 of dC/d(a2 - y) = 2*(a2 - y), in step 'C'" in sentences
    assert "your answer leaves out d(w2 * a1)/da1 = w2 = 2, in the part w2 * a1 of step 'z2'" in sentences


# ------------------------------------------------------------------ how close, tolerances, scores

CLOSE = """backprop: 1
given:
  x: 1.3
  w: 0.7
steps:
  f: sigmoid(x*w)
  g: f*3
ask: [f, {key: g, points: 2}, dg/dw]
partial: true
answers:
  f: 0.7
  g: 2.13
  dg/dw: 0.8
"""


def test_a_close_answer_is_told_how_close(here):
    Path("close.yaml").write_text(CLOSE, encoding="utf-8")
    result = invoke("check", "close.yaml", "--format", "json", *SLOW_OK)
    items = {i["key"]: i for i in json.loads(result.stdout)["exercises"][0]["items"]}
    # f = 0.7130: 0.7 is 1.8% off, outside ten times the tolerance: no code, but a sentence
    assert items["f"]["diagnosis"] is None
    assert items["f"]["feedback"] == "off by 2%: carry more digits through the chain"
    # g = 2.1390: 2.13 is 0.4% off, within ten times the tolerance: rounding
    assert items["g"]["diagnosis"] == "rounding"
    assert items["g"]["feedback"].startswith("your answer is close (off by 0.4%), but outside the "
                                             "tolerance (relative 1e-3, absolute 1e-9)")


def test_an_exact_answer_is_not_called_close(here):
    Path("close.yaml").write_text(CLOSE.replace("f: 0.7\n", "f: 7/10\n"), encoding="utf-8")
    result = invoke("check", "close.yaml", "--format", "json", *SLOW_OK)
    item = json.loads(result.stdout)["exercises"][0]["items"][0]
    assert item["key"] == "f" and item["feedback"] is None


def test_scores_have_two_decimals_and_weighted_items_show_their_points(here):
    text = CLOSE.replace("  f: 0.7\n", "  f: 1/(1 + exp(-91/100))\n").replace(
        "ask: [f, {key: g, points: 2}, dg/dw]", "ask: [f, {key: g, points: 2}, {key: dg/dw, points: 1/3}]")
    Path("close.yaml").write_text(text, encoding="utf-8")
    out = check("close.yaml")
    assert re.search(r"✓ correct   f .*  1/1$", out, re.M), out
    assert re.search(r"✗ incorrect g .*  0/2$", out, re.M), out
    assert re.search(r"✗ incorrect dg/dw .*  0/0\.33$", out, re.M), out
    assert "Score: 1/3.33" in out
    plain = Path("plain.yaml")
    plain.write_text("backprop: 1\ngiven:\n  x: 2\nsteps:\n  f: x*x\nanswers:\n  f: 4\n  df/dx: 3\n",
                     encoding="utf-8")
    out = check("plain.yaml")
    assert not re.search(r"\d/1$", out.split("Score")[0], re.M), out  # no weights: no points per item


# ------------------------------------------------------------------ exact and decimal, side by side

def test_expected_values_are_exact_when_short_with_their_decimal(here):
    path = ROOT / "exercises" / "sigmoid-chain.yaml"
    shutil.copy(path, path.name)
    answers = answers_file(path, here, {"dC/dw1": "1/2", "a1": "0.4"})
    out = check(path.name, "--answers", answers.name)
    assert re.search(r"✗ incorrect dC/dw1 +your answer 1/2, expected -1/8 ≈ -0\.125", out), out
    assert re.search(r"✗ incorrect a1 +your answer 0\.4, expected 1/2 ≈ 0\.5", out), out
    # and a long exact value as its decimal, in the grid too (the 2-3-3-1 network)
    shutil.copy(MLP, "mlp.yaml")
    answers = answers_file(MLP, here, one_wrong_entry(MLP, "dloss/dW2", "0.9"))
    out = check("mlp.yaml", "--answers", answers.name)
    assert "✗ 0.9 → -0.0005551532" in out  # 7 significant digits, no '≈' in every cell


def test_json_keeps_the_expected_value_of_a_missing_answer(here):
    shutil.copy(ROOT / "exercises" / "linear-model.yaml", "lm.yaml")
    result = invoke("check", "lm.yaml", "--format", "json", *SLOW_OK)
    items = json.loads(result.stdout)["exercises"][0]["items"]
    assert all(i["status"] == "missing" and i["expected"] is not None for i in items), items
    assert {i["key"]: i["expected"] for i in items}["dloss/dw"] == "-2"
    text = check("lm.yaml")
    assert "expected" not in text and text.count("no answer yet") == len(items)


# ------------------------------------------------------------- what is pointed at, and how

def test_no_first_wrong_step_when_nothing_is_answered_yet():
    """A student runs check before filling in the file: nothing is wrong yet, so nothing is
    pointed at as the first wrong step."""
    out = check(ROOT / "exercises" / "linear-model.yaml")
    assert "First wrong step" not in out, out
    assert out.count("no answer yet") == 8, out


def test_the_first_wrong_step_is_an_answered_one(tmp_path):
    """Missing items earlier in the graph are not 'the first wrong step'; the wrong w@1 is."""
    answers = tmp_path / "a.yaml"
    answers.write_text("w@1: 0.8\n")
    out = check(ROOT / "exercises" / "train-linear-model.yaml", "--answers", answers)
    assert "First wrong step: w@1 (explained first below)" in out, out
    data = json.loads(invoke("check", ROOT / "exercises" / "train-linear-model.yaml", "--answers", answers,
                             "--format", "json", code=1).stdout)
    assert data["exercises"][0]["first_wrong"] == "w@1"


def test_a_later_update_does_not_repeat_the_chain_of_an_earlier_one(tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("w@1: 0.8\nw@2: 1.35\n")
    out = check(ROOT / "exercises" / "train-linear-model.yaml", "--answers", answers)
    assert out.count("w@1 = w - rate · ∂loss/∂w") == 1, out
    assert "w@2 = w@1 - rate · ∂loss/∂w at w@1" in out, out
    assert "(1 line shown above is not repeated.)" in out, out


def test_explain_of_one_entry_folds_the_parts_of_a_step_as_check_does():
    """`explain --wrt W2 --entry 2,3` is the chain check points to: the `+ B` parts and the
    loss's inner difference are folded into their steps there too."""
    out = invoke("explain", MLP, "--wrt", "W2", "--entry", "2,3", COLUMNS="100").stdout
    backward = out[out.index("Backward pass"):]
    for part in ("z1_1", "z2_1", "z3_1", "loss_1"):
        assert part not in backward, backward
    assert "∂loss/∂W2[2,3] = ∂loss/∂z2[2] · ∂z2[2]/∂W2[2,3]" in backward, backward


def test_a_grid_cell_keeps_a_long_answer_whole_when_there_is_room(tmp_path):
    """A column of the softmax gradient, answered in exact forms: the right cells show the
    student's forms whole at 100 columns, not cut to a few characters."""
    answers = tmp_path / "a.yaml"
    answers.write_text('dloss/ds: [["1/(1 + exp(-1) + exp(2))"], ["-0.15"], '
                       '["exp(-1)/(1 + exp(-1) + exp(2))"]]\n')
    out = check(ROOT / "exercises" / "softmax-classifier.yaml", "--answers", answers)
    assert "│       1/(1 + exp(-1) + exp(2)) │" in out, out
    assert "exp(-1)/(1 + exp(-1) + exp(2))" in out, out
    assert "✗ -0.15 → -0.1562053" in out, out
    assert max(len(line) for line in out.splitlines() if line.startswith(("│", "┌", "└"))) <= WIDTH, out
