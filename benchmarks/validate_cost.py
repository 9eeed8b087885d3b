"""What ``validate`` costs beyond reading and solving an exercise.

For each exercise (the shipped ones by default) and in the same run:

- solve: read the file and compute every asked key with the engine (what ``solve`` does);
  this is the baseline of each row;
- fd: the key proof with the sympy.diff leg switched off (``proof_max_nodes=0``), that is
  the engine against finite differences alone;
- proof: the whole three-way proof (engine, sympy.diff, finite differences);
- tests: the question tests, each graded as ``check`` grades a student;
- lint: the warnings.

Each of fd, proof, tests and lint starts from a fresh ``Solution`` here (validate shares one
between them, so its total is lower than the sum of the columns).

Each is timed as the best of ``--repeat`` runs; the ratios are against solve in the same
run.  There are no assertions on time.  Run:  python benchmarks/validate_cost.py [FILES...]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from backprop_cli.authoring.lint import lint
from backprop_cli.authoring.proof import prove
from backprop_cli.authoring.questiontests import run_tests
from backprop_cli.exercise.load import load_exercise
from backprop_cli.grading.solver import Solution
from backprop_cli.source.limits import DEFAULT
from backprop_cli.source.yamlsrc import load_file

ROOT = Path(__file__).resolve().parents[1]


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def solve(path: Path):
    exercise = load_exercise(path)
    solution = Solution(exercise)
    for ask in exercise.asks:
        solution.expected(ask.key)
    return exercise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    files = args.files or sorted((ROOT / "exercises").glob("*.yaml"))
    fd_only = replace(DEFAULT, proof_max_nodes=0)
    print(f"{'exercise':<22} {'solve s':>8} {'fd s':>7} {'proof s':>8} {'tests s':>8} {'lint s':>7}"
          f" {'fd/solve':>9} {'proof/solve':>12} {'tests/solve':>12}")
    totals = [0.0] * 5
    for path in files:
        exercise = solve(path)
        root = load_file(path)
        row = [best(lambda: solve(path), args.repeat),
               best(lambda: prove(exercise, Solution(exercise), fd_only), args.repeat),
               best(lambda: prove(exercise, Solution(exercise)), args.repeat),
               best(lambda: run_tests(root, exercise, solution=Solution(exercise)), args.repeat),
               best(lambda: lint(exercise, Solution(exercise)), args.repeat)]
        totals = [t + r for t, r in zip(totals, row)]
        base = row[0]
        print(f"{path.stem:<22} {row[0]:8.3f} {row[1]:7.3f} {row[2]:8.3f} {row[3]:8.3f} {row[4]:7.3f}"
              f" {row[1] / base:9.1f} {row[2] / base:12.1f} {row[3] / base:12.1f}")
    base = totals[0]
    print(f"{'all':<22} {totals[0]:8.3f} {totals[1]:7.3f} {totals[2]:8.3f} {totals[3]:8.3f} {totals[4]:7.3f}"
          f" {totals[1] / base:9.1f} {totals[2] / base:12.1f} {totals[3] / base:12.1f}")


if __name__ == "__main__":
    main()
