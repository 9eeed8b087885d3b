"""A class's submissions: filled-in copies of one small scalar exercise.

Each student answers every asked key; about a quarter of the answers are
wrong, each with a classic mistake replayed on the exercise's graph (the
values the diagnosis names) or a stray number, and some right answers are
written another way (a decimal for a fraction).  Seeded, so every run grades
the same files.
"""

from __future__ import annotations

import random
from pathlib import Path

from backprop_cli.autodiff.numbers import decimal_text, shown
from backprop_cli.autodiff.tensor import is_tensor
from backprop_cli.exercise.load import load_exercise
from backprop_cli.grading.diagnosis import candidates
from backprop_cli.grading.replay import Replay, StudentWork
from backprop_cli.grading.results import SolvedKey
from backprop_cli.grading.solver import Solution
from backprop_cli.render.keyfile import answers_yaml
from backprop_cli.source.errors import BackpropError

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = ROOT / "exercises" / "sigmoid-chain.yaml"
WRONG_SHARE = 0.25


def answer_choices(path: Path = EXERCISE) -> list[tuple[str, list[str], list[str]]]:
    """For each asked key: right ways to write the answer, and wrong answers students give."""
    exercise = load_exercise(path)
    solution = Solution(exercise)
    choices = []
    for ask in exercise.asks:
        expected = solution.expected(ask.key)
        right = [shown(expected)] + ([decimal_text(expected, 6)] if not is_tensor(expected) else [])
        wrong = []
        exact = Replay(solution, StudentWork({}), exact=True)
        for candidate in candidates(solution, ask.key, StudentWork({})):
            try:
                text = shown(candidate.value(exact))
            except (BackpropError, ValueError, ArithmeticError):
                continue  # a mistake that leaves a function's domain gives no value
            if text not in right and text not in wrong:
                wrong.append(text)
        choices.append((ask.answer_key, right if right[0] != right[-1] else right[:1], wrong + ["12345", "-1/3"]))
    return choices


def write_class(folder: Path, students: int, seed: int = 13, path: Path = EXERCISE) -> list[str]:
    """``students`` filled-in copies of the exercise in ``folder``; their paths, in order."""
    rng = random.Random(seed)
    source = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    choices = answer_choices(path)
    files = []
    for n in range(students):
        pairs = []
        for key, right, wrong in choices:
            if rng.random() < WRONG_SHARE:
                pairs.append((key, rng.choice(wrong)))
            else:
                pairs.append((key, right[0] if rng.random() < 0.8 else rng.choice(right)))
        answers = "".join(f"  {line}\n" for line in answers_yaml([SolvedKey(*p) for p in pairs]).splitlines())
        target = folder / f"student-{n:04d}.yaml"
        target.write_text(source + "answers:\n" + answers, encoding="utf-8")
        files.append(str(target))
    return files
