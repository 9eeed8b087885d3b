"""What the per-file sandbox costs a class-sized batch.

Grades N filled copies of each of a few shipped exercises (answers from
`solve`, one answer wrong in every other copy) twice in the same run: in this
process, and in a forked, time- and memory-limited worker as `backprop
check` does.  Prints both times and the overhead.

    python benchmarks/sandbox_overhead.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from backprop_cli.exercise.load import load_exercise
from backprop_cli.autodiff.numbers import shown
from backprop_cli.render.keyfile import answers_yaml
from backprop_cli.grading import pipeline
from backprop_cli.grading.solver import Solution

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["linear-model", "sigmoid-chain", "fan-out", "batch-mse", "conv-stride2"]


def class_of(n: int, folder: Path) -> list[str]:
    files = []
    for name in NAMES:
        source = ROOT / "exercises" / f"{name}.yaml"
        exercise = load_exercise(source)
        solution = Solution(exercise)
        pairs = [(str(a.key), shown(solution.expected(a.key))) for a in exercise.asks]
        for k in range(n):
            answers = list(pairs)
            if k % 2:
                key, value = answers[-1]
                answers[-1] = (key, "12345" if isinstance(value, str) else [["12345"] * len(value[0])] * len(value))
            text = source.read_text() + "answers:\n" + "".join(
                "  " + line + "\n" for line in answers_yaml(answers).splitlines())
            path = folder / f"{name}-{k}.yaml"
            path.write_text(text)
            files.append(str(path))
    return files


def timed(files, bounded: bool) -> float:
    start = time.perf_counter()
    pipeline.check(files, bounded=bounded)
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        files = class_of(n, Path(tmp))
        timed(files[:3], bounded=False)  # warm the caches, as `check` does before forking
        plain = timed(files, bounded=False)
        bounded = timed(files, bounded=True)
    print(f"{len(files)} files ({n} students x {len(NAMES)} exercises, half with a wrong answer)")
    print(f"  in-process            {plain:8.2f} s")
    print(f"  sandboxed worker      {bounded:8.2f} s")
    print(f"  overhead              {100 * (bounded - plain) / plain:+8.1f} %")


if __name__ == "__main__":
    main()
