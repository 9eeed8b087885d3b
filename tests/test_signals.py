"""Signals while grading (issue: the runner under faults, defect 7).

A worker must never outlive ``check``: SIGTERM or Ctrl-C to the parent ends the worker
and exits 143 or 130 (128 + the signal, documented in the README), and a parent killed
outright takes its worker with it (a parent-death signal).  A caller's ``communicate()``
returns, because the worker does not hold the caller's pipes.

The worker is caught in the middle of a slow answer: 3000 entries, each an expression
that takes a few milliseconds to evaluate exactly, under a 100 s limit.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from processes import children, finish, running, spawn, state, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

ROW = "[" + ", ".join(f"tanh(sin({j}/7)*exp(1/3)) + sigmoid(1/9)" for j in range(100)) + "]"
SLOW = ("backprop: 1\ngiven: {x: 2, w: 3}\nsteps: {f: x * w}\nask: [f]\nanswers:\n  f:\n"
        + "".join(f"    - {ROW}\n" for _ in range(30)))


def busy_check(tmp_path: Path):
    """Start `check` on the slow answer; return (process, worker pid) once the worker is busy."""
    (tmp_path / "slow.yaml").write_text(SLOW)
    proc = spawn("check", "slow.yaml", "--time-limit", "100", "--format", "json", cwd=tmp_path)
    worker = []

    def busy() -> bool:
        worker[:] = worker or children(proc.pid)
        found = state(worker[0]) if worker else None
        return found is not None and found[1] >= 0.5  # half a second into its work

    wait_for(busy, what="the grading worker to be busy")
    return proc, worker[0]


@pytest.mark.parametrize("number, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_to_the_parent_alone_ends_the_worker_and_exits_128_plus_it(tmp_path, number, code):
    proc, worker = busy_check(tmp_path)
    proc.send_signal(number)
    done = finish(proc)
    assert done.code == code, str(done)
    assert b"Traceback" not in done.stderr and b"Aborted" not in done.stderr, str(done)
    assert signal.Signals(number).name.encode() in done.stderr, str(done)
    wait_for(lambda: not running(worker), what="the worker to end")


def test_ctrl_c_to_the_process_group_exits_130(tmp_path):
    proc, worker = busy_check(tmp_path)
    import os

    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    done = finish(proc)
    assert done.code == 130, str(done)
    wait_for(lambda: not running(worker), what="the worker to end")


def test_a_parent_killed_outright_takes_its_worker_with_it(tmp_path):
    """SIGKILL cannot be handled: the kernel's parent-death signal ends the worker, and since
    the worker holds none of the caller's pipes, communicate() returns at once."""
    proc, worker = busy_check(tmp_path)
    proc.kill()
    done = finish(proc)
    assert done.code == -signal.SIGKILL
    wait_for(lambda: not running(worker), what="the orphaned worker to die")
