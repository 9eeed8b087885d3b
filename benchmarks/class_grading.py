"""What grading a whole class costs, against solving the key once, in the same run.

Builds a class of N students (default 30), each with a filled-in copy of every
shipped exercise; about 30% of the answers are wrong, each with a classic
mistake replayed on the exercise's graph (the same candidates the diagnosis
matches: a missing factor, a path not summed, the activation for its
derivative, a transpose, a wrong sign, ...).  Then, alternating, R times
(default 3):

- ``solve`` each exercise once: one ``backprop solve FILE`` per exercise, and
  all of them solved in one Python process (one start-up, the derivations only);
- one ``backprop grade KEY SUBMISSIONS --jobs 1`` and one ``--jobs 2``.

It prints the median of each and the ratios, and checks that the gradebooks of
--jobs 1 and --jobs 2 are the same bytes.

    python benchmarks/class_grading.py [--students N] [--repeats R] [--wrong P]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backprop_cli.autodiff.numbers import shown
from backprop_cli.exercise.load import load_exercise
from backprop_cli.grading.diagnosis import StudentWork, candidates
from backprop_cli.grading.solver import Solution
from backprop_cli.grading.results import SolvedKey
from backprop_cli.render.keyfile import answers_yaml

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = sorted((ROOT / "exercises").glob("*.yaml"))
SOLVE_ALL = """
import sys
from backprop_cli.exercise.load import load_exercise
from backprop_cli.grading.solver import Solution
from backprop_cli.autodiff.numbers import shown
for path in sys.argv[1:]:
    exercise = load_exercise(path)
    solution = Solution(exercise)
    print(len([shown(solution.expected(a.key)) for a in exercise.asks]))
"""


def mistakes(path: Path) -> tuple[list[tuple[str, object]], dict[str, list[object]]]:
    """The right answers, and for each key the wrong values classic mistakes give."""
    exercise = load_exercise(path)
    solution = Solution(exercise)
    right = [(str(a.key), shown(solution.expected(a.key))) for a in exercise.asks]
    wrong: dict[str, list[object]] = {}
    for ask in exercise.asks:
        values = []
        try:
            for c in candidates(solution, ask.key, StudentWork({})):
                if c.code != "carried-forward":
                    values.append(shown(c.value))
        except Exception:  # a mistake that leaves a function's domain gives no value
            pass
        expected = shown(solution.expected(ask.key))
        wrong[str(ask.key)] = [v for v in values if v != expected] or ["12345"]
    return right, wrong


def make_class(folder: Path, students: int, share: float, seed: int = 12) -> tuple[Path, Path, int, int]:
    key, subs = folder / "key", folder / "submissions"
    key.mkdir()
    rng = random.Random(seed)
    solved = {path: mistakes(path) for path in EXERCISES}
    answers = wrong_count = 0
    for path in EXERCISES:
        (key / path.name).write_text(path.read_text())
    for n in range(students):
        folder = subs / f"student{n:03d}"
        folder.mkdir(parents=True)
        for path in EXERCISES:
            right, wrong = solved[path]
            pairs = []
            for k, v in right:
                answers += 1
                if rng.random() < share:
                    wrong_count += 1
                    pairs.append((k, rng.choice(wrong[k])))
                else:
                    pairs.append((k, v))
            block = "".join("  " + line + "\n" for line in answers_yaml([SolvedKey(*p) for p in pairs]).splitlines())
            (folder / path.name).write_text(path.read_text().rstrip("\n") + "\nanswers:\n" + block)
    return key, subs, answers, wrong_count


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], out: Path | None = None) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one command (its worker processes included)."""
    start, cpu = time.perf_counter(), _cpu()
    run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"failed ({run.returncode}): {' '.join(command)}\n{run.stderr.decode()}")
    if out is not None:
        out.write_bytes(run.stdout)
    return elapsed, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wrong", type=float, default=0.3, help="share of wrong answers")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "backprop_cli"]
    names = ["solve each (CLI)", "solve all (1 process)", "grade --jobs 1", "grade --jobs 2"]
    times: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        key, subs, answers, wrong = make_class(Path(tmp), args.students, args.wrong)
        print(f"{args.students} students x {len(EXERCISES)} exercises: {answers} answers, "
              f"{wrong} wrong ({100 * wrong / answers:.0f}%), {os.cpu_count()} cores")
        books = {}
        timed(cli + ["solve", str(EXERCISES[0])])  # warm the disk cache and the interpreter
        for r in range(args.repeats):
            order = list(times) if r % 2 == 0 else list(reversed(times))
            for name in order:
                if name == "solve each (CLI)":
                    runs = [timed(cli + ["solve", str(p)]) for p in EXERCISES]
                elif name == "solve all (1 process)":
                    runs = [timed([sys.executable, "-c", SOLVE_ALL, *map(str, EXERCISES)])]
                else:
                    jobs = name.split()[-1]
                    out = Path(tmp) / f"book-{jobs}.csv"
                    runs = [timed(cli + ["grade", str(key), str(subs), "--jobs", jobs, "--format", "csv"], out)]
                    books[jobs] = out.read_bytes()
                times[name].append(sum(wall for wall, _ in runs))
                cpus[name].append(sum(cpu for _, cpu in runs))
        same = books["1"] == books["2"]
    median = {name: statistics.median(t) for name, t in times.items()}
    cpu = {name: statistics.median(c) for name, c in cpus.items()}
    base = median["solve each (CLI)"]
    print(f"\nmedian of {args.repeats} alternating runs (wall-clock and CPU seconds; CPU/wall above 1 "
          "means work ran in parallel)")
    print(f"{'':24}{'wall s':>8}{'CPU s':>8}{'CPU/wall':>10}{'x solve each':>14}{'x solve all':>13}")
    for name, t in median.items():
        print(f"{name:24}{t:8.2f}{cpu[name]:8.2f}{cpu[name] / t:10.2f}{t / base:14.2f}"
              f"{t / median['solve all (1 process)']:13.2f}")
    print(f"\n--jobs 2 is {median['grade --jobs 1'] / median['grade --jobs 2']:.2f}x faster than --jobs 1; "
          f"gradebooks {'identical' if same else 'DIFFER'}")
    print("all runs (wall s): " + "; ".join(f"{n}: " + ", ".join(f"{x:.2f}" for x in t)
                                            for n, t in times.items()))


if __name__ == "__main__":
    main()
