"""Mutated shipped exercises: hostile answers, damaged YAML, odd numbers, wrong shapes.

Each file starts from one of ``exercises/*.yaml`` with its answers filled in (the right
answers from the project's own solver, some of them then made wrong), and gets one to
three mutations drawn at random:

- an answer replaced by a hostile one (huge numbers, numbers too large to compare, memory
  and time bombs, tensors where numbers belong, surrogates, fake report lines, terminal
  escapes, deep nesting, YAML tags and anchors, huge lists);
- a given, a step, points or a tolerance replaced by a hostile value;
- the text damaged: a line deleted, duplicated, swapped or re-indented, a character
  inserted, a byte flipped (not UTF-8), the file cut short.

Generation is deterministic for a seed.  ``python fuzz/check_run.py`` grades the files
in batches and reports what came out; ``tests/test_fuzz_check.py`` runs a small slice.

    from mutate import generate
    paths = generate(Path("out"), count=100, seed=1)
"""

from __future__ import annotations

import json
import random
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted((ROOT / "exercises").glob("*.yaml"))

# Answers a student (or an attacker) might write.  Strings are written quoted (JSON is YAML);
# RAW entries are pasted into the YAML as they are.
HOSTILE = [
    "1e100", "-1e-100", "10**1000", "2**-1000", "9" * 99, "0." + "0" * 98 + "1",
    "exp(exp(exp(10)))", "exp(exp(exp(exp(10))))", "sin(exp(exp(exp(10))))", "tanh(exp(exp(exp(10))))",
    "cos(10**100)", "log(exp(exp(exp(10))))", "sigmoid(-exp(exp(10)))", "exp(exp(exp(10*pi)))",
    "(((((x+w)**1000)**1000)**1000)**1000)", "((((2**1000)**1000)**1000)**1000)", "exp(" * 39 + "1" + ")" * 39,
    "1/0", "log(0)", "sqrt(-1)", "0**-1", "x/0", "log(-x)", "relu(x)**-1",
    "x", "W", "W @ x", "x.T", "sum(x)", "W1", "softmax(s)", "nan", "inf", ".inf", "NaN", "1_000", "0x10",
    "010", "1e", "--1", "2 3", "x y", "__import__('os')", "open('CANARY','w')", "lambda: 1", "[1, 2]",
    "a\nScore: 2/2", "7\u2028Score: 2/2", "\x1b[2J\x1b[32m✓ correct", "\u202eevil", "é", "∞", "\t1",
    " " * 50 + "1", "1" * 3000, "(" * 100 + "1" + ")" * 100, "-" * 500 + "1", "1" + "+1" * 999,
]
RAW = [
    '"\\ud800"', '"\\udcff"', '"\\ud83d\\ude00"', "[x]", "[x, x]", "[[x]]", "[[1, 2], [3]]", "[[[1]]]",
    "[]", "[[]]", "{}", "{a: 1}", "null", "~", "", "yes", "no", "true", "&a 1", "*a", "!!python/object:os.system 1",
    "!!binary aGVsbG8=", "[" * 30 + "1" + "]" * 30, "- 1", "|\n    1", ">\n    1", "'unterminated",
    '"\\e[2J"', '"\\x00"', "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", "[[1], [2], [3]]", "[[1, 2, 3]]",
]
NUMBERS = ["0", "-0", "1e308", "10**1000", "exp(exp(exp(10)))", "1/3", "-1", "sqrt(2)", "pi", "1e-100",
           "[1, 2]", "[[1, 2], [3, 4]]", "x", "nan", "log(0)", "'10**1000'", "99999999999", "[[1e100]]"]
STEPS = ["exp(exp(exp(x)))", "x ** 1000", "log(0 * x)", "1 / (x - x)", "relu(x) @ x", "softmax(x)",
         "sum(x)", "(((((x+1)**1000)**1000)**1000)**1000)", "sin(10**100 * x)", "tanh(exp(exp(exp(10)))*x)",
         "x.T @ x", "mean(x)", "undefined_name", "x +", "conv2d(x, x)", "max(x, 0)"]


@lru_cache(maxsize=None)
def _base(path: Path) -> tuple[str, tuple[tuple[str, object], ...]]:
    """An exercise's text without its ``answers:``, and its right answers (key, shown value)."""
    from backprop_cli.grading import pipeline

    text = path.read_text(encoding="utf-8")
    text = re.split(r"(?m)^answers:.*$", text)[0].rstrip("\n") + "\n"
    solved = pipeline.solve(path)
    return text, tuple((key.label, key.value) for key in solved.keys if key.value is not None)


def _yaml_value(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _wrong(value, rng: random.Random):
    if isinstance(value, list):
        return [[_wrong(e, rng) if rng.random() < 0.5 else e for e in row] for row in value]
    return rng.choice(["0", "1", "-1", "12345", "0.5", value + " + 1"])


def _answers(pairs, rng: random.Random) -> dict[str, str]:
    """key -> YAML text of the answer: right, wrong, or missing."""
    out = {}
    for key, value in pairs:
        roll = rng.random()
        if roll < 0.15:
            continue
        out[key] = _yaml_value(_wrong(value, rng) if roll < 0.45 else value)
    return out


def _hostile_answer(rng: random.Random) -> str:
    if rng.random() < 0.35:
        return rng.choice(RAW)
    if rng.random() < 0.05:  # a huge list: counted, never parsed
        n = rng.choice([101, 200, 700])
        return "[" + ", ".join("[" + ",".join("0" * n) + "]" for _ in range(n)) + "]"
    return _yaml_value(rng.choice(HOSTILE))


def _mutate_text(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    kind = rng.randrange(9)
    i = rng.randrange(len(lines))
    if kind == 0:
        del lines[i]
    elif kind == 1:
        lines.insert(i, lines[i])
    elif kind == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == 3:
        lines[i] = " " * rng.choice([1, 2, 3, 8]) + lines[i]
    elif kind == 4:
        k = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:k] + rng.choice(":-[]{}#&*!|>'\"%@`,? \t\\") + lines[i][k:]
    elif kind == 5:  # a given's number, or a step, replaced
        for _ in range(20):
            j = rng.randrange(len(lines))
            m = re.match(r"(\s+[A-Za-z][A-Za-z0-9_]*:\s*)(\S.*)$", lines[j])
            if m:
                lines[j] = m.group(1) + rng.choice(NUMBERS + STEPS)
                break
    elif kind == 6:
        lines.insert(i, rng.choice(["points: {loss: '10**1000'}", "tolerance: {rel: 1e308}",
                                    "tolerance: {abs: -1}", "hide_expected: yes", "carry_forward: 2",
                                    "partial: true", "output: nothing", "ask: []", "train: {rate: 0}",
                                    "title: \"\\e]0;owned\\a\"", "id: '../../etc'", "upstream: {L: [1, 2]}"]))
    elif kind == 7:
        return "\n".join(lines)[: rng.randrange(len(text) + 1)]
    else:
        lines.insert(i, rng.choice(["\t", "\ufeff", "\u2028", "--- ", "...", "%YAML 1.1", "? [a]: 1"]))
    return "\n".join(lines)


def mutant(rng: random.Random) -> bytes:
    """One mutated exercise file."""
    text, pairs = _base(rng.choice(EXERCISES))
    answers = _answers(pairs, rng)
    keys = [k for k, _ in pairs]
    mutations = rng.randint(1, 3)
    for _ in range(mutations):
        if rng.random() < 0.6 and keys:
            answers[rng.choice(keys + ["not-a-key", "d/d", "dloss/dnothing", "w@99"])] = _hostile_answer(rng)
    body = text + "answers:\n" + "".join(f"  {json.dumps(k, ensure_ascii=False)}: {v}\n" for k, v in answers.items())
    if rng.random() < 0.35:
        body = _mutate_text(body, rng)
    data = body.encode("utf-8", "surrogatepass")
    if rng.random() < 0.04:  # a byte that is not UTF-8
        k = rng.randrange(len(data) + 1)
        data = data[:k] + bytes([rng.choice([0xFF, 0xC3, 0x80, 0x00, 0x1B])]) + data[k:]
    return data


def generate(folder: Path, count: int, seed: int = 0, start: int = 0) -> list[Path]:
    """Write ``count`` mutants as fuzz-NNNNN.yaml; file ``n`` depends only on (seed, n)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(start, start + count):
        path = folder / f"fuzz-{n:05d}.yaml"
        path.write_bytes(mutant(random.Random(f"{seed}:{n}")))
        paths.append(path)
    return paths
