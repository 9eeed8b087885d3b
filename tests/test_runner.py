"""The bounded runner itself (grading.runner), driven by small grading functions.

Each test hands ``run_bounded`` a fake ``grade(path, watch, skips)`` that reports its
progress as real grading does and then misbehaves in one way: it runs out of memory,
spins on the CPU, sleeps, or splits one answer's work in parts.  The worker is a real
forked process; what is checked is who gets blamed and what is skipped on the next try.

No test asserts on a duration.  Budgets here are CPU time, so a busy machine makes
these tests slower, never different.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from backprop_cli.grading import process, runner
from backprop_cli.grading.budget import Phase, item_id, skipped
from backprop_cli.grading.results import FileResult, ItemResult
from backprop_cli.grading.verdicts import Status
from backprop_cli.source.limits import Limits

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the bounded runner needs fork")


def spin(seconds: float) -> None:
    """Use ``seconds`` of CPU time (not of wall time)."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def result(path: str, skips: dict, labels: list[str]) -> runner.Outcome:
    """A FileResult listing each label, invalid (with the reason) when its answer was stopped."""
    items = []
    for label in labels:
        why = skipped(skips, Phase.ANSWER, label)
        notes = [f"{phase.name}: {w}" for phase in (Phase.DIAGNOSIS, Phase.TRACE)
                 if (w := skipped(skips, phase, label))]
        items.append(ItemResult(label, Status.INVALID if why else Status.CORRECT, None, None,
                                0.0, 1.0, message=why, note="; ".join(notes) or None))
    return FileResult(path, "ex", None, None, items), None


def by_label(outcome: runner.Outcome) -> dict[str, ItemResult]:
    file_result, _ = outcome
    assert file_result.error is None, file_result.error
    return {item.key: item for item in file_result.items}


# ------------------------------------------------------------------ who is blamed

def test_a_worker_that_dies_is_blamed_where_it_really_was(monkeypatch):
    """The parent reads the worker's position, then waits; the worker moves on and dies in
    that wait.  The position must be read again after the worker is reaped: the stale one
    ("reading the file") would turn one answer's MemoryError into the whole file's error.

    To make the race certain, the poll interval is widened to 30 s and the worker waits
    until the parent has taken its first look before it moves on to the bomb."""
    looked_r, looked_w = os.pipe()
    original = runner._Progress.get

    def get(self, final=False):
        snapshot = original(self, final)
        os.write(looked_w, b".")  # tell the worker the parent has looked
        return snapshot

    monkeypatch.setattr(runner._Progress, "get", get)
    monkeypatch.setattr(runner, "_POLL", 30.0)

    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.LOADING, "")
        os.read(looked_r, 1)  # the parent has seen us loading; now the bomb, inside its wait
        watch(Phase.ANSWER, "bomb")
        if not skipped(skips, Phase.ANSWER, "bomb"):
            raise MemoryError
        watch(Phase.ANSWER, "fine")
        return result(path, skips, ["bomb", "fine"])

    try:
        [outcome] = runner.run_bounded(["one.yaml"], grade, Limits())
    finally:
        os.close(looked_r)
        os.close(looked_w)
    items = by_label(outcome)
    assert items["bomb"].status is Status.INVALID
    assert "ran out of memory" in items["bomb"].message
    assert items["fine"].status is Status.CORRECT


def test_two_failures_in_one_file_blame_two_items_not_the_file():
    """A second failure after a skip is another item's, and an innocent item before it is
    graded each time."""
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.LOADING, "")
        for label in ("a", "b", "c", "d"):
            watch(Phase.ANSWER, label)
            if label in ("b", "d") and not skipped(skips, Phase.ANSWER, label):
                raise MemoryError
        return result(path, skips, ["a", "b", "c", "d"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, Limits())
    items = by_label(outcome)
    assert [items[k].status for k in "abcd"] == [Status.CORRECT, Status.INVALID, Status.CORRECT,
                                                 Status.INVALID]


def test_failure_while_reading_or_loading_is_the_files_and_the_next_file_is_graded():
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        if path == "broken.yaml":
            raise MemoryError
        watch(Phase.LOADING, "")
        watch(Phase.ANSWER, "a")
        return result(path, skips, ["a"])

    broken, good = runner.run_bounded(["broken.yaml", "good.yaml"], grade, Limits())
    assert broken[0].error.startswith("broken.yaml: ran out of memory (")
    assert broken[0].error.endswith(") while reading the file")
    assert by_label(good)["a"].status is Status.CORRECT


def test_a_crash_is_blamed_on_its_item():
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, "a")
        if not skipped(skips, Phase.ANSWER, "a"):
            os.kill(os.getpid(), signal.SIGUSR1)  # dies of a signal, as a crash in C code does
        return result(path, skips, ["a"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, Limits())
    assert by_label(outcome)["a"].message == f"crashed (signal {int(signal.SIGUSR1)})"


def test_a_very_long_label_is_skipped_all_the_same():
    """Labels are passed through shared memory; a hostile 5000-character key goes as a digest."""
    label = "d" + "x" * 5000 + "/dw"
    assert item_id(label) != label and len(item_id(label)) < 100

    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, label)
        if not skipped(skips, Phase.ANSWER, label):
            raise MemoryError
        return result(path, skips, [label])

    [outcome] = runner.run_bounded(["one.yaml"], grade, Limits())
    assert by_label(outcome)[label].status is Status.INVALID


# ------------------------------------------------------------------ CPU time, one budget per answer

LIMITS = Limits(answer_seconds=0.4)


def test_one_budget_per_answer_across_its_parts():
    """An answer's reading and its diagnosis each fit in the budget but not together: the
    diagnosis is what is stopped (and only it), even though another answer ran between them."""
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.LOADING, "")
        watch(Phase.ANSWER, "x")
        spin(0.25)
        watch(Phase.ANSWER, "y")
        spin(0.05)
        watch(Phase.DIAGNOSIS, "x")
        if not skipped(skips, Phase.DIAGNOSIS, "x"):
            spin(0.25)  # 0.5 s for x in all: over its 0.4 s
        watch(Phase.DIAGNOSIS, "y")
        return result(path, skips, ["x", "y"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, LIMITS)
    items = by_label(outcome)
    assert items["x"].status is Status.CORRECT  # the verdict stands
    assert items["x"].note == "DIAGNOSIS: took longer than 0.4 s of CPU time"
    assert items["y"].status is Status.CORRECT and items["y"].note is None


def test_the_file_parts_have_budgets_of_their_own():
    """Reading the file and working out the exercise are not charged to any answer."""
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        spin(0.3)
        watch(Phase.LOADING, "")
        spin(0.3)
        watch(Phase.ANSWER, "a")
        spin(0.3)
        watch(Phase.LOADING, "")  # back to the exercise's work (how right answers print)
        spin(0.3)
        watch(Phase.TRACE, "a")
        return result(path, skips, ["a"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, Limits(answer_seconds=0.4, load_seconds=0.7))
    assert by_label(outcome)["a"].status is Status.CORRECT


def test_waiting_is_not_working():
    """A budget counts CPU time: an answer that waits 1 s on the clock within a 0.4 s budget
    is not stopped (a wall-clock limit would stop it, as it stopped answers on a busy machine)."""
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, "a")
        time.sleep(1.0)
        return result(path, skips, ["a"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, LIMITS)
    assert by_label(outcome)["a"].status is Status.CORRECT


def test_spinning_past_the_budget_is_stopped():
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, "slow")
        if not skipped(skips, Phase.ANSWER, "slow"):
            spin(60)
        watch(Phase.ANSWER, "quick")
        return result(path, skips, ["slow", "quick"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, LIMITS)
    items = by_label(outcome)
    assert items["slow"].message == "took longer than 0.4 s of CPU time"
    assert items["quick"].status is Status.CORRECT


def test_a_stuck_worker_is_stopped_by_the_wall_clock_backstop(monkeypatch):
    monkeypatch.setattr(runner, "backstop", lambda budget: 0.5)

    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, "stuck")
        if not skipped(skips, Phase.ANSWER, "stuck"):
            time.sleep(120)  # blocked, using no CPU
        return result(path, skips, ["stuck"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, LIMITS)
    assert "on the clock" in by_label(outcome)["stuck"].message


def test_the_worker_limits_its_own_cpu_seconds():
    """The second line of defence: RLIMIT_CPU follows the budget of the part being worked on,
    so a worker whose parent cannot read its clock still dies (SIGXCPU) and is blamed."""
    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, "a")
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_CPU)
        return FileResult(path, "ex", None, None, [ItemResult("a", Status.CORRECT, None, str(soft), 0, 1)]), None

    [outcome] = runner.run_bounded(["one.yaml"], grade, LIMITS)
    soft = int(outcome[0].items[0].expected)
    assert 0 < soft <= 3, soft  # ceil(cpu now + 0.4 s) + 1, in whole seconds


def test_rlimit_cpu_stops_a_worker_the_parent_cannot_measure(monkeypatch):
    """With the parent's accounting blinded, the worker's own RLIMIT_CPU (whole seconds, a
    second behind the budget) kills it with SIGXCPU, and the item is blamed all the same."""
    monkeypatch.setattr(runner, "_cpu_since", lambda clock, cpu_start, wall_start: 0.0)

    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, "slow")
        if not skipped(skips, Phase.ANSWER, "slow"):
            spin(60)
        return result(path, skips, ["slow"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, LIMITS)
    assert by_label(outcome)["slow"].message == "took longer than 0.4 s of CPU time"


def test_without_a_readable_cpu_clock_the_budget_falls_back_to_the_wall_clock(monkeypatch):
    monkeypatch.setattr(process, "cpu_clock", lambda pid: None)

    def grade(path, watch, skips):
        watch(Phase.READING, "")
        watch(Phase.ANSWER, "slow")
        if not skipped(skips, Phase.ANSWER, "slow"):
            time.sleep(60)
        return result(path, skips, ["slow"])

    [outcome] = runner.run_bounded(["one.yaml"], grade, LIMITS)
    assert by_label(outcome)["slow"].message == "took longer than 0.4 s"


# ------------------------------------------------------------------ memory

def test_an_inherited_memory_limit_is_never_raised_and_is_what_the_message_says(monkeypatch):
    import resource

    gib = 1 << 30
    monkeypatch.setattr(process, "mapped_bytes", lambda: gib // 2)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (gib, gib))  # ulimit -v 1048576
    plan = process.MemoryLimit.plan(4096)
    assert plan.outside and plan.total == gib
    assert "4096" not in plan.describe() and "1024 MB" in plan.describe() and "ulimit" in plan.describe()
    calls = []
    monkeypatch.setattr(resource, "setrlimit", lambda which, value: calls.append(value))
    plan.apply()
    assert calls == []  # the inherited limit stays as it is


def test_our_memory_limit_never_exceeds_an_inherited_hard_limit(monkeypatch):
    import resource

    gib = 1 << 30
    monkeypatch.setattr(process, "mapped_bytes", lambda: gib)
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, 100 * gib))
    plan = process.MemoryLimit.plan(4096)
    assert not plan.outside and plan.total == 5 * gib
    assert plan.describe() == "the limit is 4096 MB"
    calls = []
    monkeypatch.setattr(resource, "setrlimit", lambda which, value: calls.append(value))
    plan.apply()
    assert calls == [(5 * gib, 5 * gib)]


# ------------------------------------------------------------------ living and dying

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_worker_asks_to_die_with_its_parent_and_lets_go_of_its_pipes():
    """PR_SET_PDEATHSIG is set in the worker (a parent killed outright takes it along), Ctrl-C
    is left to the parent, and its stdout is not the caller's."""
    import ctypes

    def grade(path, watch, skips):
        watch(Phase.READING, "")
        value = ctypes.c_int(-1)
        ctypes.CDLL(None, use_errno=True).prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
        facts = [value.value, int(signal.getsignal(signal.SIGINT) is signal.SIG_IGN),
                 os.path.realpath("/proc/self/fd/1")]
        return FileResult(path, "ex", None, None, [ItemResult("a", Status.CORRECT, None, json.dumps(facts), 0, 1)]), None

    [outcome] = runner.run_bounded(["one.yaml"], grade, Limits())
    pdeathsig, ignores_ctrl_c, stdout = json.loads(outcome[0].items[0].expected)
    assert pdeathsig == signal.SIGKILL
    assert ignores_ctrl_c == 1
    assert stdout == os.devnull


def test_progress_keeps_a_bounded_number_of_label_records_and_writes_each_label_right():
    progress = runner._Progress(0, os.getppid())
    try:
        long = "k" * 2000  # a hostile key: recorded by its digest
        for n in range(runner._LABELS * 2 + 5):
            progress.set(n, Phase.ANSWER, f"dloss/dw{n}")
            assert len(progress._labels) <= runner._LABELS
            assert progress.get().label == f"dloss/dw{n}"
        progress.set(7, Phase.TRACE, long)
        snap = progress.get()
        assert (snap.index, snap.phase, snap.label) == (7, Phase.TRACE, item_id(long))
        progress.set(8, Phase.LOADING)
        assert (progress.get().phase, progress.get().label) == (Phase.LOADING, "")
    finally:
        progress.memory.close()
