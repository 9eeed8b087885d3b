"""One run of every speed benchmark, printed as one table of ratios against same-run baselines.

    python -m benchmarks                 # the recorded run (about 15 minutes on 2 busy cores)
    python -m benchmarks --repeats 7     # more runs per figure
    python -m benchmarks --quick         # a smoke run while developing: not for the record

Figures are medians of ``--repeats`` runs (default 5) after one warm-up run,
in alternating order (measure.py).  Each row compares backprop with a
baseline measured in the same run on the same machine:

- start-up: ``backprop --help`` against ``python -c "import click"``, and
  ``backprop check`` of one student's filled-in scalar exercise against
  ``python -c "import sympy"``;
- batch: the cost of each extra submission, the slope of ``backprop check
  --format json`` between 100 and 1000 files, against the same slope of a
  naive SymPy grader (naive.py) on the same files;
- engine: ``solve`` of sigmoid MLPs from 2-8-1 to 16-32-32-8, printing every
  entry, against ``sympy.diff`` of the whole loss where that finishes within
  ``--budget`` seconds of CPU time; and the cost per parameter across sizes;
- runner: grading 1000 files in the bounded worker against grading them in
  the process, each pass in a fresh process (no cache warm from the other);
- memory: peak resident memory of ``check`` over 1000 submissions against one.

The package's byte-code is compiled first, as an installed package's is.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks import measure
from benchmarks.measure import ROOT, median
from benchmarks.networks import parameters
from benchmarks.submissions import write_class

ENGINE_SIZES = ["2-8-1", "4-8-8-2", "4-16-16-2", "8-32-32-4", "16-32-32-8"]
CHECK = ["-m", "backprop_cli", "check"]


@dataclass
class Row:
    what: str
    ours: str
    baseline: str
    ratio: str  # from wall times
    cpu_ratio: str  # the same from CPU times
    target: str = ""
    verdict: str = ""


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def _judge(ok: bool) -> str:
    return "met" if ok else "MISSED"


def startup(repeats: int, student: str) -> list[Row]:
    variants = {
        "help": lambda: measure.python("-m", "backprop_cli", "--help"),
        "click": lambda: measure.python("-c", "import click"),
        "check": lambda: measure.python(*CHECK, student),
        "sympy": lambda: measure.python("-c", "import sympy"),
    }
    runs = measure.alternating(variants, repeats)
    rows = []
    for ours, base, what, limit in (("help", "click", "start-up: backprop --help / import click", 2.0),
                                    ("check", "sympy", "start-up: check one scalar file / import sympy", 1.2)):
        wall = median(runs[ours]) / median(runs[base])
        cpu = median(runs[ours], "cpu") / median(runs[base], "cpu")
        rows.append(Row(what, _s(median(runs[ours])), _s(median(runs[base])), f"{wall:.2f}x", f"{cpu:.2f}x",
                        f"<= {limit:g}x", _judge(wall <= limit)))
    return rows


def batch(repeats: int, lists: dict[int, list[str]]) -> tuple[list[Row], dict]:
    variants = {}
    for n, files in lists.items():
        variants[f"ours-{n}"] = lambda files=files: measure.python(*CHECK, "--format", "json", *files)
        if n > 1:
            variants[f"naive-{n}"] = lambda files=files: measure.python("-m", "benchmarks.naive", *files)
    runs = measure.alternating(variants, repeats)
    small, large = sorted(n for n in lists if n > 1)
    slopes = {}
    for who in ("ours", "naive"):
        for field in ("wall", "cpu"):
            slopes[who, field] = (median(runs[f"{who}-{large}"], field)
                                  - median(runs[f"{who}-{small}"], field)) / (large - small)
    wall, cpu = slopes["naive", "wall"] / slopes["ours", "wall"], slopes["naive", "cpu"] / slopes["ours", "cpu"]
    row = Row(f"batch: each extra submission ({small} -> {large} files) / naive SymPy grader",
              _s(slopes["ours", "wall"]), _s(slopes["naive", "wall"]), f"{wall:.1f}x less", f"{cpu:.1f}x less",
              ">= 20x less (goal 50x)", _judge(wall >= 20))
    return [row], runs


def memory(runs: dict, large: int) -> Row:
    one, many = median(runs["ours-1"], "rss_mb"), median(runs[f"ours-{large}"], "rss_mb")
    return Row(f"memory: peak RSS of check, {large} submissions / 1", f"{many:.0f} MB", f"{one:.0f} MB",
               f"{many / one:.2f}x", "", "<= 1.2x", _judge(many / one <= 1.2))


def engine(repeats: int, budget: float, sizes: list[str]) -> list[Row]:
    rows, per_param = [], {}
    for size in sizes:
        n = parameters(tuple(int(k) for k in size.split("-")))
        first = measure.child("naive", size, str(budget))  # also the warm-up of the alternation
        finished = _done(first) == n
        variants = {"engine": lambda: measure.child("engine", size)}
        if finished:
            variants["naive"] = lambda: measure.child("naive", size, str(budget))
        runs = measure.alternating(variants, repeats, warmup=0 if finished else 1)
        ours, ours_cpu = median(runs["engine"]), median(runs["engine"], "cpu")
        per_param[size] = ours_cpu / n
        if finished:
            naive, naive_cpu = median(runs["naive"]), median(runs["naive"], "cpu")
            baseline, ratio, cpu = _s(naive), f"{naive / ours:.0f}x less", f"{naive_cpu / ours_cpu:.0f}x less"
        else:
            baseline = f"> {budget:g} s cpu ({_done(first)}/{n} done)"
            ratio, cpu = "", f"> {budget / ours_cpu:.0f}x less"
        target, verdict = ("< 1 s", _judge(ours < 1.0)) if size == "8-32-32-4" else ("", "")
        rows.append(Row(f"engine: solve {size} ({n} params), every entry printed / sympy.diff",
                        _s(ours), baseline, ratio, cpu, target, verdict))
    low, high = min(per_param.values()), max(per_param.values())
    rows.append(Row(f"engine: CPU per parameter, costliest size / cheapest ({sizes[0]} .. {sizes[-1]})",
                    _s(high), _s(low), "", f"{high / low:.2f}x", "<= 2x", _judge(high / low <= 2)))
    return rows


def _done(sample: measure.Sample) -> int:
    return json.loads(sample.output)["done"]


def overhead(repeats: int, listing: Path, n: int) -> Row:
    variants = {mode: lambda mode=mode: measure.child("grade", mode, str(listing)) for mode in ("inline", "forked")}
    runs = measure.alternating(variants, repeats)
    inline, forked = median(runs["inline"]), median(runs["forked"])
    extra = forked / inline - 1
    cpu = median(runs["forked"], "cpu") / median(runs["inline"], "cpu") - 1
    return Row(f"runner: grading {n} files in the bounded worker / in the process", _s(forked), _s(inline),
               f"{extra:+.1%}", f"{cpu:+.1%}", "<= +5%", _judge(extra <= 0.05))


def machine() -> list[str]:
    model = ""
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import numpy
    import sympy
    import yaml

    return [f"machine: {model or platform.processor()}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}",
            f"python {platform.python_version()}, sympy {sympy.__version__}, numpy {numpy.__version__}, "
            f"PyYAML {yaml.__version__} (libyaml {'yes' if yaml.__with_libyaml__ else 'no'})"]


def table(rows: list[Row]) -> str:
    head = Row("figure", "backprop", "baseline", "ratio (wall)", "ratio (cpu)", "target", "")
    cells = [[r.what, r.ours, r.baseline, r.ratio, r.cpu_ratio, r.target, r.verdict] for r in [head, *rows]]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head.__dict__))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in cells]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="measured runs per figure, after a warm-up (5)")
    parser.add_argument("--budget", type=float, default=30.0, help="CPU seconds sympy.diff may take per size (30)")
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs: a smoke test, not a record")
    args = parser.parse_args(argv)
    repeats, budget, sizes, counts = args.repeats, args.budget, ENGINE_SIZES, (100, 1000)
    if args.quick:
        repeats, budget, sizes, counts = 2, 5.0, ENGINE_SIZES[:2], (20, 100)
    compileall.compile_dir(str(ROOT / "backprop_cli"), quiet=1)
    loads = [os.getloadavg()]
    started = time.time()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        files = write_class(Path(tmp), counts[1])
        listing = Path(tmp) / "files.txt"
        listing.write_text("\n".join(files), encoding="utf-8")
        sections = [
            ("start-up", lambda: startup(repeats, files[0])),
            ("batch and memory", lambda: _batch_and_memory(repeats, files, counts)),
            ("engine", lambda: engine(repeats, budget, sizes)),
            ("runner", lambda: [overhead(repeats, listing, len(files))]),
        ]
        for name, section in sections:
            print(f"... {name}", file=sys.stderr, flush=True)
            rows += section()
            loads.append(os.getloadavg())
    print(table(rows))
    print()
    print("\n".join(machine()))
    print(f"load average (1 min) during the run: {min(l[0] for l in loads):.1f} to {max(l[0] for l in loads):.1f}; "
          f"{(time.time() - started) / 60:.0f} minutes; medians of {repeats} runs after a warm-up"
          + ("; QUICK RUN, not for the record" if args.quick else ""))
    return 0


def _batch_and_memory(repeats: int, files: list[str], counts: tuple[int, int]) -> list[Row]:
    rows, runs = batch(repeats, {1: files[:1], counts[0]: files[:counts[0]], counts[1]: files[:counts[1]]})
    return rows + [memory(runs, counts[1])]
