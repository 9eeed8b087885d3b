"""The reproductions of the fault-injection pass (issue: the runner under faults), one test each.

The rule they share: a hostile answer or a slow item may only ever make its own item
``invalid``; it never costs the file, the other files, or the run its output.  Most run
``check`` in-process (CliRunner); those about bytes on stdout, locales and named pipes run
a real process (tests/processes.py).  Signals are in test_signals.py, the runner's own
bookkeeping in test_runner.py, load in test_stress.py.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from cli_runner import invoke
from processes import environment, finish, run, spawn

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
PAIR = "backprop: 1\ngiven: {x: 2}\nsteps: {a: x * 3, b: a + 1}\nask: [a, b]\n"  # a = 6, b = 7


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def check_json(*args) -> tuple[int, dict]:
    result = invoke("check", *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def items_of(document: dict, n: int = 0) -> dict[str, dict]:
    exercise = document["exercises"][n]
    assert exercise["error"] is None, exercise["error"]
    return {i["key"]: i for i in exercise["items"]}


# ------------------------------------------------------------------ 5. numbers too large to compare

@pytest.mark.parametrize("answer", ["sin(exp(exp(exp(10))))", "tanh(exp(exp(exp(10))))",
                                    "cos(exp(exp(exp(10))))", "exp(exp(exp(exp(10))))"])
def test_an_answer_too_large_to_compare_is_invalid_and_the_others_are_graded(tmp_path, answer):
    path = write(tmp_path / "ex.yaml", PAIR + f"answers: {{a: '{answer}', b: 7}}\n")
    code, doc = check_json(path)
    items = items_of(doc)
    assert code == 1
    assert items["a"]["status"] == "invalid"
    assert "too large" in items["a"]["message"] and "ex.yaml:5:" in items["a"]["message"]
    assert items["b"]["status"] == "correct"


def test_the_linear_model_keeps_its_grades_beside_a_hostile_gradient(tmp_path):
    """Correctness issue, item 4: 'too many digits in integer' used to lose the whole file."""
    text = (EXERCISES / "linear-model.yaml").read_text()
    path = write(tmp_path / "lm.yaml", text + "answers:\n  dloss/dw: 'exp(exp(exp(exp(10))))'\n  loss: 1\n"
                                              "  dloss/dr: -2\n")
    code, doc = check_json(path)
    items = items_of(doc)
    assert items["dloss/dw"]["status"] == "invalid"
    assert items["loss"]["status"] == items["dloss/dr"]["status"] == "correct"


# ------------------------------------------------------------------ 6. a tensor inside a list

@pytest.mark.parametrize("answer", ["[x]", "[x, x]", "[[x, x]]", "[[1], [x]]"])
def test_a_tensor_inside_a_list_answer_is_that_answers_problem(tmp_path, answer):
    text = ("backprop: 1\ngiven: {x: [1, 2]}\nsteps: {z: 2 * x, s: sum(z)}\nask: [z, s]\n"
            f"answers: {{z: {answer}, s: 6}}\n")
    code, doc = check_json(write(tmp_path / "vec.yaml", text))
    items = items_of(doc)
    assert items["z"]["status"] == "invalid"
    assert "2x1 tensor, not a number" in items["z"]["message"]
    assert items["s"]["status"] == "correct"


# ------------------------------------------------------------------ 8. student text is one line

FAKES = ["7\n  ✓ correct   b  your answer 7", "7\u2028Score: 2/2", "7\u2029Score: 2/2", "7\r\nScore: 2/2"]


@pytest.mark.parametrize("fake", FAKES)
def test_an_answer_cannot_add_lines_to_the_report(tmp_path, fake):
    answers = {"a": fake, f"b\nScore: 2/2": 1}
    path = write(tmp_path / "ex.yaml", PAIR + "answers: " + json.dumps(answers) + "\n")
    out = invoke("check", path).stdout
    lines = out.splitlines()
    assert [line for line in lines if line.startswith("Score")] == ["Score: 0/2"], out
    assert not any(line.lstrip().startswith("✓ correct   b") for line in lines), out
    assert "\u2028" not in out and "\u2029" not in out and "\r" not in out


def test_an_answers_files_exercise_id_cannot_add_lines(tmp_path):
    exercise = write(tmp_path / "ex.yaml", PAIR)
    answers = write(tmp_path / "a.yaml", 'exercise: "other\\nScore: 2/2"\na: 6\n')
    result = invoke("check", exercise, "--answers", answers)
    assert not any(line.startswith("Score: 2/2") for line in result.output.splitlines()), result.output


# ------------------------------------------------------------------ 9. bounded points and tolerances

@pytest.mark.parametrize("section, where", [("points: {a: '10**1000'}\n", "points of 'a' is too large"),
                                            ("tolerance: {rel: '10**1000'}\n", "a tolerance is too large")])
def test_points_and_tolerances_are_bounded(tmp_path, section, where):
    path = write(tmp_path / "ex.yaml", PAIR + section + "answers: {a: 6, b: 7}\n")
    result = invoke("validate", path)
    assert result.exit_code == 2 and where in result.stderr and "ex.yaml:5:" in result.stderr, result.output
    code, doc = check_json(path)
    assert code == 2
    assert "Infinity" not in json.dumps(doc)


def test_json_never_holds_infinity_or_nan():
    from backprop_cli.render.jsonout import dumps

    assert json.loads(dumps({"score": float("inf"), "x": [float("nan"), 1.5]})) == {"score": None, "x": [None, 1.5]}


# ------------------------------------------------------------------ 10. COLUMNS that is not a number

@pytest.mark.parametrize("columns", ["abc", "²", "9" * 5000, "-3", "0", "", " 80 "])
@pytest.mark.parametrize("color", ["--color", "--no-color"])
def test_columns_that_is_not_a_width_is_ignored(tmp_path, monkeypatch, columns, color):
    monkeypatch.setenv("COLUMNS", columns)
    path = write(tmp_path / "ex.yaml", PAIR + "answers: {a: 6, b: 8}\n")
    from click.testing import CliRunner

    from backprop_cli.cli import main

    result = CliRunner().invoke(main, ["check", str(path), color])
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Score" in result.output


# ------------------------------------------------------------------ 3. long answer lists

def test_a_huge_answer_is_refused_on_its_own_and_the_file_is_graded(tmp_path):
    """A 700x700 answer (490000 entries, 980 KB) is counted, not parsed: that answer is
    invalid, the file's other answer is correct, whatever the machine's load."""
    grid = "[" + ", ".join("[" + ",".join("0" * 700) + "]" for _ in range(700)) + "]"
    text = ("backprop: 1\ngiven: {x: 2, W: [[1, 2], [3, 4]]}\nsteps: {a: x * 3, B: 2 * W}\nask: [a, B]\n"
            f"answers:\n  B: {grid}\n  a: 6\n")
    assert len(text.encode()) < 1 << 20
    code, doc = check_json(write(tmp_path / "big.yaml", text))
    items = items_of(doc)
    assert items["B"]["status"] == "invalid"
    assert "has 490000 entries; the limit is 10000" in items["B"]["message"]
    assert "big.yaml:6:6" in items["B"]["message"]
    assert items["a"]["status"] == "correct"


def test_a_huge_answer_written_as_rows_is_refused_on_its_own(tmp_path):
    rows = "".join("    - [" + ",".join("0" * 700) + "]\n" for _ in range(700))
    text = ("backprop: 1\ngiven: {x: 2, W: [[1, 2], [3, 4]]}\nsteps: {a: x * 3, B: 2 * W}\nask: [a, B]\n"
            f"answers:\n  a: 6\n  B:\n{rows}")
    code, doc = check_json(write(tmp_path / "rows.yaml", text))
    items = items_of(doc)
    assert "has 490000 entries" in items["B"]["message"] and "rows.yaml:8:5" in items["B"]["message"]
    assert items["a"]["status"] == "correct"


def test_a_file_of_too_many_values_is_refused_where_it_crosses_the_limit():
    """Values written one per line are parsed, but no further than the file's limit (the
    default is 100000: about 3 s of parsing, where 1 MiB of them would take 8)."""
    from backprop_cli.source.errors import BackpropError
    from backprop_cli.source.limits import Limits
    from backprop_cli.source.yamlsrc import load_text

    text = "backprop: 1\nanswers:\n  a:\n" + "    - 1\n" * 200
    with pytest.raises(BackpropError) as info:
        load_text(text, "many.yaml", Limits(max_yaml_values=100))
    [problem] = info.value.problems
    assert problem.message == "the file holds more than 100 values, the limit"
    assert (problem.location.line, problem.location.column) == (97, 7)  # the 101st value: 7 come before the list


def test_long_lists_are_blanked_without_moving_anything():
    from backprop_cli.source.prescan import prescan

    text = "a: [" + ", ".join(["1"] * 12) + "]  # note\nb: '[x, y'\nc:\n  - [1, 2]\n  - [3, 4]\nd: [1]\n"
    parsed, long = prescan(text, 20, 10)
    assert len(parsed) == len(text) and parsed.count("\n") == text.count("\n")
    assert long == {3: 12}
    assert parsed.startswith("a: [" + " " * (len(", ".join(["1"] * 12))) + "]  # note\nb: '[x, y'\n")
    parsed, long = prescan(text, 20, 3)  # the rows of c hold 4 entries together
    assert long == {3: 12, text.index("- [1"): 4}
    assert "- [    ]\n  - [    ]" in parsed and parsed.endswith("d: [1]\n")


# ------------------------------------------------------------------ 4. surrogates and file names

def test_a_lone_surrogate_is_that_answers_problem(tmp_path):
    bad = write(tmp_path / "bad.yaml", PAIR + 'answers: {a: "\\ud800", b: "\\udcff"}\n')
    good = write(tmp_path / "good.yaml", PAIR + "answers: {a: 6, b: 7}\n")
    code, doc = check_json(bad, good)
    items = items_of(doc)
    for key in ("a", "b"):
        assert items[key]["status"] == "invalid"
        assert "surrogate" in items[key]["message"] and "bad.yaml:5:" in items[key]["message"]
    assert all(i["status"] == "correct" for i in items_of(doc, 1).values())
    json.dumps(doc).encode("utf-8")  # nothing left that UTF-8 cannot carry


def test_a_surrogate_pair_is_one_character_and_a_lone_one_in_a_key_is_the_files_problem(tmp_path):
    pair = write(tmp_path / "pair.yaml", PAIR + 'title: "\\ud83d\\ude00 emoji"\nanswers: {a: 6, b: 7}\n')
    assert invoke("check", pair).exit_code == 0
    key = write(tmp_path / "key.yaml", PAIR + 'answers: {"a\\udc80": 6}\n')
    result = invoke("validate", key)
    assert result.exit_code == 2 and "key.yaml:5:" in result.stderr and "surrogate" in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names are bytes")
@pytest.mark.parametrize("io", ["utf-8:strict", None])  # a strict UTF-8 stdout, and Python's default
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_is_utf8_whatever_the_names_and_answers(tmp_path, io, fmt):
    """A file name that is not UTF-8, and answers with escaped surrogates: the run still
    reports every file, and stdout is valid UTF-8 (no raw 0xFF byte in the JSON)."""
    name = b"caf\xe9.yaml"
    with open(os.path.join(os.fsencode(tmp_path), name), "w") as f:
        f.write(PAIR + "answers: {a: 6, b: 7}\n")
    write(tmp_path / "sur.yaml", PAIR + 'answers: {a: "\\udcff", b: 7}\n')
    env = environment(**({"PYTHONIOENCODING": io} if io else {}))
    if io is None:
        env.pop("PYTHONIOENCODING", None)
    done = run("check", name, "sur.yaml", "--format", fmt, cwd=tmp_path, env=env)
    assert done.code == 1, str(done)
    out = done.text  # strict UTF-8
    done.stderr.decode("utf-8")
    if fmt == "json":
        doc = json.loads(out)
        assert [e["file"] for e in doc["exercises"]] == ["caf\\udce9.yaml", "sur.yaml"]
        assert [e["error"] for e in doc["exercises"]] == [None, None]
    else:
        assert "caf\\udce9.yaml" in out, str(done)


def test_validate_prints_a_file_name_safely(tmp_path):
    name = b"caf\xe9\x1b[31m.yaml"
    with open(os.path.join(os.fsencode(tmp_path), name), "w") as f:
        f.write(PAIR)
    done = run("validate", name, cwd=tmp_path, env=environment(PYTHONIOENCODING="utf-8:strict"))
    assert done.code == 0 and "\x1b" not in done.text and "caf\\udce9\\x1b[31m.yaml: ok" in done.text, str(done)


# ------------------------------------------------------------------ 11. named pipes and devices

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_is_refused_by_every_command(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    write(tmp_path / "ex.yaml", PAIR)
    commands = [("validate", "fifo.yaml"), ("solve", "fifo.yaml"), ("explain", "fifo.yaml"),
                ("check", "fifo.yaml"), ("check", "ex.yaml", "--answers", "fifo.yaml")]
    started = [spawn(*args, cwd=tmp_path) for args in commands]  # side by side: each would block
    for done in map(finish, started):
        assert done.code == 2, str(done)
        assert "cannot read 'fifo.yaml': it is a named pipe, not a file" in (done.stdout + done.stderr).decode()


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused(tmp_path):
    result = invoke("validate", "/dev/zero")
    assert result.exit_code == 2 and "it is a device, not a file" in result.stderr


# ------------------------------------------------------------------ 12. minor

def test_markdown_explain_prints_no_terminal_sequences(tmp_path):
    path = write(tmp_path / "ex.yaml", PAIR + 'title: "T\\e]0;owned\\aitle"\nprompt: "Find \\e[2Ja.\\nThen b."\n')
    out = invoke("explain", path, "--format", "markdown").stdout
    assert "\x1b" not in out and "\x07" not in out
    assert "## T\\x1b]0;owned\\x07itle" in out and "Find \\x1b[2Ja.\nThen b." in out


def test_a_too_large_file_is_reported_with_its_real_size(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(67 << 20)  # sparse: 67 MB that take no room
    result = invoke("validate", path)
    assert result.exit_code == 2 and f"file is too large ({67 << 20} bytes; the limit is 1048576)" in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS as Linux counts it")
def test_an_outside_memory_limit_is_the_one_named(tmp_path):
    """Under ulimit -v, running out of memory names that limit, not the 4096 MB of our own."""
    write(tmp_path / "bomb.yaml", "backprop: 1\ngiven: {x: 1, y: 2, w: 1}\nsteps: {y_hat: x * w, r: y_hat - y, "
                                  "loss: r**2}\nask: [{key: dloss/dw, form: formula}, loss]\n"
                                  "answers: {dloss/dw: 'exp(exp(exp(10*pi)))', loss: 1}\n")
    done = run("check", "bomb.yaml", "--format", "json", cwd=tmp_path, memory=3 << 30)
    assert done.code == 1, str(done)
    items = items_of(json.loads(done.text))
    assert items["loss"]["status"] == "correct"
    message = items["dloss/dw"]["message"]
    assert items["dloss/dw"]["status"] == "invalid" and "ran out of memory" in message, message
    assert "4096" not in message and "ulimit" in message and "3072 MB" in message


# ------------------------------------------------------------------ correctness issue, items 5 and 6

def test_a_tiny_time_limit_never_costs_the_file(tmp_path):
    """`check sigmoid-chain.yaml --time-limit 0.01` used to fail with 0 items: the right
    answers were worked out on the first answer's clock, and a skipped item computed again."""
    text = (EXERCISES / "sigmoid-chain.yaml").read_text()
    answers = {"a1": "1/2", "a2": "1/2", "C": "0.3", "dC/da2": -1, "dC/dz2": "-1/4", "dC/dw2": 5}
    path = write(tmp_path / "sc.yaml", text + "answers: " + json.dumps(answers) + "\n")
    code, doc = check_json(path, "--time-limit", "0.01")
    items = items_of(doc)
    assert len(items) == 11
    for item in items.values():
        assert item["status"] in ("correct", "incorrect", "missing", "invalid"), item
        if item["status"] == "invalid":
            assert "took longer than 0.01 s" in item["message"], item
        assert "internal error" not in json.dumps(item)
    bare = check_json(EXERCISES / "sigmoid-chain.yaml", "--time-limit", "0.01")[1]
    assert len(items_of(bare)) == 11


def test_a_memory_bomb_beside_good_files_is_only_its_items_problem(tmp_path):
    write(tmp_path / "ok.yaml", PAIR + "answers: {a: 6, b: 7}\n")
    write(tmp_path / "bomb.yaml", "backprop: 1\ngiven: {x: 1, y: 2, w: 1}\nsteps: {y_hat: x * w, r: y_hat - y, "
                                  "loss: r**2}\nask: [{key: dloss/dw, form: formula}, loss]\n"
                                  "answers: {dloss/dw: 'exp(exp(exp(10*pi)))', loss: 1}\n")
    code, doc = check_json(tmp_path / "ok.yaml", tmp_path / "ok.yaml", tmp_path / "bomb.yaml")
    assert [e["error"] for e in doc["exercises"]] == [None, None, None]
    bomb = items_of(doc, 2)
    assert bomb["dloss/dw"]["status"] == "invalid" and bomb["loss"]["status"] == "correct"
