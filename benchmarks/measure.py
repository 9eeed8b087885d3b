"""Taking a measurement: a process's wall time, CPU time and peak memory; medians of alternating runs.

Each figure is the median of several runs after a warm-up run that is thrown
away, and the variants compared are run in alternating order (A B, then B A,
...), so that a machine that gets busier or quieter during the run, or a cache
warmed by the previous run, does not favour one side.  CPU time (user +
system, the process and everything it waited for) is reported beside the wall
time: on a machine shared with other work, it moves much less.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds of user + system time
    rss_mb: float = 0.0  # peak resident memory of the process (or its largest child)
    output: str = ""  # what it printed on stdout


def environment() -> dict[str, str]:
    """The environment for measured processes: this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def run(args: list[str], keep_output: bool = False) -> Sample:
    """Run one process to the end; its wall time, CPU time and peak RSS (from wait4)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=environment(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    output = process.stdout.read() if keep_output else ""
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)  # not Popen.wait: wait4 also gives the usage
    wall = time.perf_counter() - start
    process.returncode = code = os.waitstatus_to_exitcode(status)
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()
    if code not in (0, 1):  # check exits 1 when some answer is wrong; anything else is a failure
        raise RuntimeError(f"{' '.join(args[:6])} ... exited {code}:\n{errors[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, output)


def python(*args: str, **kw) -> Sample:
    return run([sys.executable, *args], **kw)


def child(*args: str) -> Sample:
    """A measurement made inside a fresh process (benchmarks.child): its own figures, not the process's."""
    sample = python("-m", "benchmarks.child", *args, keep_output=True)
    data = json.loads(sample.output.strip().splitlines()[-1])
    return Sample(data["wall"], data["cpu"], data.get("rss_mb", 0.0), json.dumps(data))


def alternating(variants: dict[str, callable], repeats: int, warmup: int = 1) -> dict[str, list[Sample]]:
    """Run every variant ``warmup + repeats`` times, alternating the order; keep the last ``repeats``."""
    names = list(variants)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for round_ in range(warmup + repeats):
        for name in names if round_ % 2 == 0 else reversed(names):
            sample = variants[name]()
            if round_ >= warmup:
                samples[name].append(sample)
    return samples


def median(samples: list[Sample], field: str = "wall") -> float:
    return statistics.median(getattr(s, field) for s in samples)
