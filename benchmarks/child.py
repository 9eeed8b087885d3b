"""Measurements made inside a fresh process, so that no cache is warm from another run.

Each prints one JSON line with its own wall and CPU seconds (the work only,
not the process's start-up):

    python -m benchmarks.child engine 8-32-32-4       solve the network, printing every entry
    python -m benchmarks.child naive 8-32-32-4 30     sympy.diff of the whole loss, 30 s at most
    python -m benchmarks.child grade inline LIST      grade the files named in LIST in this process
    python -m benchmarks.child grade forked LIST      ... in the bounded worker, as check does
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import mpmath

from backprop_cli.autodiff.numbers import approx
from backprop_cli.exercise.load import load_exercise
from backprop_cli.grading import pipeline
from backprop_cli.grading.solver import Solution
from backprop_cli.render.keyfile import answers_yaml
from benchmarks.networks import exercise_yaml, naive_gradients, network


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # a forked worker's time counts too
    return time.process_time() + usage.ru_utime + usage.ru_stime


def _size(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split("-"))


def solve_and_print(sizes: tuple[int, ...], folder: Path) -> str:
    """What ``backprop solve`` does for the network: read it, solve it, write every entry."""
    solved = pipeline.solve(_written(sizes, folder))
    return answers_yaml(solved.keys, solved.exercise.id)


def _written(sizes: tuple[int, ...], folder: Path) -> Path:
    path = folder / f"mlp-{'-'.join(map(str, sizes))}.yaml"
    path.write_text(exercise_yaml(sizes, *network(sizes)), encoding="utf-8")
    return path


def _exact_gradients(sizes: tuple[int, ...], folder: Path) -> dict:
    exercise = load_exercise(_written(sizes, folder))
    solution = Solution(exercise)
    return {str(ask.key.wrt): solution.expected(ask.key) for ask in exercise.asks}


def engine(size: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        solve_and_print((2, 4, 1), Path(tmp))  # warm-up: the first solve in a process pays extra
        start, cpu = time.perf_counter(), _cpu()
        printed = solve_and_print(_size(size), Path(tmp))
        return {"wall": time.perf_counter() - start, "cpu": _cpu() - cpu, "bytes": len(printed)}


def naive(size: str, budget: str) -> dict:
    sizes = _size(size)
    start, cpu = time.perf_counter(), _cpu()
    seconds, done, total = naive_gradients(*network(sizes), float(budget))
    result = {"wall": time.perf_counter() - start, "cpu": _cpu() - cpu, "done": len(done), "params": total}
    with tempfile.TemporaryDirectory() as tmp:  # the two routes must agree, or the ratio means nothing
        grads = _exact_gradients(sizes, Path(tmp))
    for (name, r, c), value in list(done.items())[:3]:
        a, b = approx(grads[name][r, c], 35), approx(value, 35)
        if abs(a - b) > mpmath.mpf(10) ** -30 * max(1, abs(b)):
            raise SystemExit(f"engine and sympy.diff disagree at {name}[{r + 1},{c + 1}]: {a} vs {b}")
    result["agree"] = min(3, len(done))
    return result


def grade(mode: str, listing: str) -> dict:
    paths = Path(listing).read_text(encoding="utf-8").split("\n")
    start, cpu = time.perf_counter(), _cpu()
    run = pipeline.check(paths, bounded=mode == "forked")
    return {"wall": time.perf_counter() - start, "cpu": _cpu() - cpu, "files": len(run.results)}


def main(argv: list[str]) -> int:
    command, *args = argv
    result = {"engine": engine, "naive": naive, "grade": grade}[command](*args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
