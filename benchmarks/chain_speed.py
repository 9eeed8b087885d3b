"""How long `solve` and `check` take on long scalar chains, and what one decimal memo per run saves.

Part 1, chains.  Deterministic scalar chains of 2 to 20 steps over two givens, in the style of
the exercises an outside autodiff oracle generated (tanh, sigmoid, sin, softplus and
exp(-(...)**2) of small expressions of the previous step and the givens; seeded, so every run
builds the same chains).  For each length:

- solve: read the file, compute the value and d(out)/d(given) for both givens, and print
  them as `solve` does (exact when short, else 15 digits);
- check: grade one answer to d(out)/d(the middle step) that is 0.7% off (outside the
  tolerance, inside ten times it), in this process, the way check's worker grades a file:
  the answer is compared, every classic mistake is replayed to name it, and the trace slice
  that explains the right answer is cut.  The diagnosis found is shown (it should be
  `rounding`).

Every time is also given as a ratio to the 2-step chain measured in the same run, so runs on
machines of different speed (or under different load) can be compared by their ratios.

Part 2, decimals.  The 8-32-32-4 sigmoid network of engine_scaling.py is solved and all of
its gradient entries printed as `solve` prints them, twice in the same run: with one memo
per precision for the whole run (as the code does), and with a fresh memo for every number
(as it did before), and the two outputs are compared.

There are no assertions on time.  Run:  python benchmarks/chain_speed.py [--steps 2 8 16]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time

import mpmath
import sympy as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from engine_scaling import exercise_yaml, network  # noqa: E402  (the same networks as there)

from backprop_cli.autodiff import numbers  # noqa: E402
from backprop_cli.autodiff.numbers import approx, shown  # noqa: E402
from backprop_cli.exercise.keys import GradKey  # noqa: E402
from backprop_cli.exercise.load import load_exercise  # noqa: E402
from backprop_cli.grading.results import summarize  # noqa: E402
from backprop_cli.grading.solver import Solution  # noqa: E402
from backprop_cli.grading.verdicts import grade_file  # noqa: E402

STEPS = [2, 4, 8, 12, 16, 20]
SEED = 13


def chain(n: int, seed: int = SEED) -> tuple[dict, list[tuple[str, str]]]:
    """Givens and n steps; each step a function of a small expression of the one before."""
    rng = random.Random(seed * 100 + n)
    given = {"x": rng.choice(["-2.6", "-1.3", "0.7", "1.3"]), "y": rng.choice(["-0.8", "0.4", "1.1"])}
    steps, p = [], "x"
    for i in range(1, n + 1):
        k = rng.choice(["0.2", "-2", "1.5", "2"])
        inner = rng.choice([f"{p} - x*{p}", f"{p} + y", f"{p}*{k}", f"y*{p} + 1", f"{p} - y*{p}"])
        f = rng.choice(["tanh", "sigmoid", "sin", "softplus", "gauss"])
        text = f"exp(-(({inner})*{k})**2)" if f == "gauss" else f"{f}({inner})"
        name = f"s{i}"
        steps.append((name, text))
        p = name
    return given, steps


def chain_yaml(given: dict, steps: list, extra: str = "") -> str:
    lines = ["backprop: 1", "given:"] + [f"  {k}: {v}" for k, v in given.items()] + ["steps:"]
    lines += [f"  {name}: {text}" for name, text in steps]
    return "\n".join(lines) + "\n" + extra


class OutOfTime(BaseException):  # not an Exception: library code that catches those must not swallow it
    pass


def _alarm(signum, frame):
    raise OutOfTime


def timed(fn, repeat: int = 1, budget: float = 0):
    """(the least seconds of ``repeat`` runs, the result); (None, None) past ``budget`` seconds."""
    best, out = None, None
    for _ in range(repeat):
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, budget)
        try:
            start = time.perf_counter()
            out = fn()
            seconds = time.perf_counter() - start
        except OutOfTime:
            return None, None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
        best = seconds if best is None else min(best, seconds)
    return best, out


def solve_and_print(path: str) -> list:
    exercise = load_exercise(path)
    solution = Solution(exercise)
    return [shown(solution.expected(ask.key)) for ask in exercise.asks]


def graded_key(path: str, steps: list) -> GradKey:
    """d(out)/d(the step, in the first half of the chain, or given x, where the gradient is
    largest): a slip on a gradient below the absolute tolerance would not be a slip at all."""
    out = steps[-1][0]
    solution = Solution(load_exercise(path))
    keys = [GradKey(out, name) for name, _ in steps[:max(1, len(steps) // 2)]] + [GradKey(out, "x")]
    return max(keys, key=lambda k: abs(approx(solution.expected(k), 15)))


def a_little_off(path: str, key) -> str:
    """The right value of ``key`` times 1.007, as a decimal a student might write."""
    exercise = load_exercise(path)
    with mpmath.workdps(30):
        return mpmath.nstr(approx(Solution(exercise).expected(key), 20) * mpmath.mpf("1.007"), 6)


def grade(path: str):
    report = grade_file(path)
    summarize(report)
    return report


def _cell(seconds, base) -> str:
    if seconds is None:
        return f"{'> budget':>8} {'-':>6}"
    return f"{seconds:8.3f} {seconds / base:6.1f}" if base else f"{seconds:8.3f} {'-':>6}"


def part_chains(lengths: list[int], tmp: str, repeat: int, budget: float) -> None:
    print(f"Part 1: scalar chains (in this process; the least seconds of {repeat} runs, and the ratio "
          "to the 2-step chain)")
    header = f"{'steps':>5} {'solve s':>8} {'ratio':>6} {'check s':>8} {'ratio':>6}  graded key, diagnosis"
    print(header)
    print("-" * len(header))
    base = None
    for n in sorted(set([2] + lengths)):
        given, steps = chain(n)
        path = os.path.join(tmp, f"chain{n}.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(chain_yaml(given, steps))
        solve_s, _ = timed(lambda: solve_and_print(path), repeat, budget)
        key = graded_key(path, steps)
        answer = a_little_off(path, key)
        graded = os.path.join(tmp, f"check{n}.yaml")
        with open(graded, "w", encoding="utf-8") as f:
            f.write(chain_yaml(given, steps, f"ask: [{key}]\nanswers: {{{key}: {answer}}}\n"))
        check_s, report = timed(lambda: grade(graded), repeat, budget)
        base = base or (solve_s, check_s)
        diagnosis = "-" if report is None else report.items[0].diagnosis if report.items else report.problems
        print(f"{n:>5} {_cell(solve_s, base[0])} {_cell(check_s, base[1])}  {key}, {diagnosis}", flush=True)


def part_decimals(tmp: str) -> None:
    size = (8, 32, 32, 4)
    layers, x, y = network(size)
    path = os.path.join(tmp, "mlp.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(exercise_yaml(size, layers, x, y))
    exercise = load_exercise(path)
    solution = Solution(exercise)
    values = [solution.expected(ask.key) for ask in exercise.asks]
    entries = sum(v.size for v in values)
    print(f"\nPart 2: printing the {entries} gradient entries of the {'-'.join(map(str, size))} network "
          "as solve does")
    numbers._MEMOS.clear()
    shared_s, shared = timed(lambda: [shown(v) for v in values])
    original = numbers.approx

    def fresh_memo(value, digits):
        numbers._MEMOS.clear()  # what every call did before: a memo of its own
        return original(value, digits)

    numbers.approx = fresh_memo
    try:
        fresh_s, fresh = timed(lambda: [shown(v) for v in values])
    finally:
        numbers.approx = original
    same = "same output" if fresh == shared else "OUTPUTS DIFFER"
    print(f"one memo per precision: {shared_s:.3f} s; a fresh memo per number: {fresh_s:.3f} s "
          f"(x{fresh_s / shared_s:.1f}); {same}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", nargs="*", type=int, default=STEPS, help="chain lengths (default 2 4 8 12 16 20)")
    parser.add_argument("--no-decimals", action="store_true", help="skip part 2 (the network)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement; the least is shown")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds one run may take (default 120)")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, sympy {sp.__version__}\n")
    with tempfile.TemporaryDirectory() as tmp:
        warm = os.path.join(tmp, "warm.yaml")  # imports and SymPy's lazy modules, not timed
        with open(warm, "w", encoding="utf-8") as f:
            f.write(chain_yaml(*chain(3)))
        grade(warm)
        solve_and_print(warm)
        part_chains(args.steps, tmp, args.repeat, args.budget)
        if not args.no_decimals:
            part_decimals(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
