"""Grading files in a child process, bounded in CPU time per answer and in memory.

Pure-Python guards cannot stop SymPy or CPython in the middle of C code (a
huge power, a float literal with a million digits), so files are graded in a
forked worker with an address-space limit, and the parent kills it when a part
of the work uses up its budget of CPU time.  The worker says, in shared memory,
which file, part and item it is working on, and how much CPU that item had
already used; when it is killed (or dies), that part is skipped and a fresh
worker carries on from that file.  On the common path one worker grades the
whole batch, with its caches warm, so the bound costs one fork per ``check``;
results come back a batch at a time (up to 64 files, or a quarter of a second
of work), not one wake-up of the parent per file.  A worker that is stopped
takes its unsent batch with it: the next one grades those files again.

Budgets count the worker's CPU time, not the clock on the wall, so a grade
does not depend on how busy the machine is; a generous wall-clock backstop
still stops a worker that is stuck without using the CPU.  The worker dies
with its parent (a parent-death signal where the system has one), and the
parent kills it on every way out, an interrupt included.

Where ``os.fork`` does not exist (Windows), files are graded in-process with
only the structural limits of :mod:`backprop_cli.source.limits`.
"""

from __future__ import annotations

import gc
import mmap
import os
import pickle
import select
import signal
import struct
import time
from dataclasses import dataclass, replace
from typing import Callable

from backprop_cli.grading import process
from backprop_cli.grading.budget import Phase, Skips, Watch, item_id, stopped
from backprop_cli.grading.results import FileResult
from backprop_cli.source.limits import DEFAULT, Limits

_HEADER = struct.Struct("!I")
_OUT_OF_MEMORY = 3  # the worker's exit code when an allocation failed
_FAILED = 4  # the worker's exit code for anything else
_LABELS = 1024  # item labels whose record bytes the worker keeps (a hostile file may have many)
_BATCH, _BATCH_SECONDS = 64, 0.25  # the worker sends results at most this many (or this long) at a time

Outcome = tuple[FileResult, "Exception | None"]  # the result, and a crash for --debug
GradeOne = Callable[[str, Watch, Skips], Outcome]  # grade one file, reporting progress


def run_inline(paths: list[str], grade: GradeOne) -> list[Outcome]:
    """Grade each file in this process, bounded only by the structural limits."""
    return [grade(path, lambda phase, label: None, {}) for path in paths]


def run_bounded(paths: list[str], grade: GradeOne, limits: Limits = DEFAULT) -> list[Outcome]:
    """Grade each file in a forked worker, each part bounded in CPU time and the worker in memory."""
    if not hasattr(os, "fork"):
        return run_inline(paths, grade)
    outcomes: list[Outcome | None] = [None] * len(paths)
    skips: list[Skips] = [{} for _ in paths]
    setup = _Setup(limits, process.MemoryLimit.plan(limits.memory_mb), process.die_with_parent())
    start = 0
    while start < len(paths):
        stop = _worker(paths, start, grade, setup, skips, outcomes)
        if stop is None:
            break
        path = paths[stop.index]
        if not stop.phase.per_answer:
            outcomes[stop.index] = (FileResult(path, None, None, f"{path}: {stopped(stop.phase, stop.why)}"), None)
        elif (stop.phase, stop.label) in skips[stop.index]:  # a skipped part ran again: a bug
            error = (f"{path}: internal error: '{stop.label}' was stopped again after it was skipped "
                     f"({stop.why}) (please report this)")
            outcomes[stop.index] = (FileResult(path, None, None, error), None)
        else:
            skips[stop.index][stop.phase, stop.label] = stop.why
        # the next worker starts at the first file without a result (a batch not yet sent is graded again)
        start = next((i for i in range(start, len(paths)) if outcomes[i] is None), len(paths))
    return outcomes


@dataclass(frozen=True)
class _Setup:
    limits: Limits
    memory: process.MemoryLimit
    die_with_parent: Callable[[], None]


@dataclass(frozen=True)
class _Stop:
    """Where a worker stopped: file index, part, item label, and what went wrong."""

    index: int
    phase: Phase
    label: str
    why: str


@dataclass(frozen=True)
class _Snapshot:
    counter: int
    index: int
    phase: Phase
    cpu_start: float  # the worker's CPU time when this stretch of work began
    spent: float  # CPU seconds the same budget had used before this stretch
    label: str


class _Progress:
    """Where the worker is, in memory shared with the parent: no system call per item.

    The worker writes the file index, part, item label and its CPU accounting
    as it starts each stretch of work.  Records alternate between two slots and
    a counter says which is current; it is odd while a record is being written
    (a sequence lock: the parent looks again).  The memory outlives the worker,
    so after the worker died the parent reads where it really was, and even a
    worker killed in the middle of a write leaves the record before intact.
    """

    _COUNTER = struct.Struct("!Q")
    _RECORD = struct.Struct("!IBddH")  # file index, phase, cpu start, spent, label length
    SIZE = 4096
    _SLOT = (SIZE - _COUNTER.size) // 2
    _LABEL = _SLOT - _RECORD.size  # bytes of label a record holds

    def __init__(self, index: int, parent: int) -> None:
        self.memory = mmap.mmap(-1, self.SIZE)  # anonymous and shared with a forked child
        self.counter = 0
        self.parent = parent
        self.cpu_limit: process.CpuLimit | None = None  # the worker's, set once forked
        self.budgets: tuple[float, float] = (0.0, 0.0)  # (per file part, per answer)
        self._spent: dict[tuple, float] = {}
        self._labels: dict[str, bytes] = {}  # each label as a record holds it, worked out once
        self._current: tuple | None = None
        self._since = 0.0
        self._write(index, Phase.READING, 0.0, 0.0, b"")  # the child's CPU clock starts at 0

    def set(self, index: int, phase: Phase, label: str = "") -> None:
        """In the worker: a new stretch of work starts; charge the last one to its budget."""
        data = self._labels.get(label)
        if data is None:  # at most 1000 bytes: fits a record
            if len(self._labels) >= _LABELS:
                self._labels.clear()
            data = self._labels[label] = item_id(label).encode("utf-8", "surrogatepass")
        if os.getppid() != self.parent:  # the parent is gone (and no parent-death signal)
            os._exit(_FAILED)
        now = process.own_cpu()
        spent_by = self._spent
        if self._current is not None:
            spent_by[self._current] = spent_by.get(self._current, 0.0) + now - self._since
        per_answer = phase.per_answer
        key = (index, label) if per_answer else (index, phase)  # one budget per answer
        spent = spent_by.get(key, 0.0)
        self._current, self._since = key, now
        if self.cpu_limit is not None:
            self.cpu_limit.allow(now, self.budgets[per_answer] - spent)
        self._write(index, phase, now, spent, data)

    def _slot(self, counter: int) -> int:
        return self._COUNTER.size + (counter // 2) % 2 * self._SLOT

    def _write(self, index: int, phase: Phase, cpu_start: float, spent: float, data: bytes) -> None:
        memory, counter = self.memory, self.counter
        self._COUNTER.pack_into(memory, 0, counter + 1)  # odd: writing the other slot
        at = self._slot(counter + 2)
        self._RECORD.pack_into(memory, at, index, phase, cpu_start, spent, len(data))
        if data:
            at += self._RECORD.size
            memory[at:at + len(data)] = data
        self.counter = counter = counter + 2
        self._COUNTER.pack_into(memory, 0, counter)

    def get(self, final: bool = False) -> _Snapshot:
        """In the parent: the last complete record (``final``: the worker is dead, take it as it is)."""
        for attempt in range(10000):
            (counter,) = self._COUNTER.unpack_from(self.memory, 0)
            if counter % 2 and not final and attempt < 9999:
                continue  # being written: a moment (a writer that died mid-write cannot finish)
            current = counter - counter % 2  # a dead writer's half-written record is not used
            at = self._slot(current)
            index, phase, cpu_start, spent, size = self._RECORD.unpack_from(self.memory, at)
            data = bytes(self.memory[at + self._RECORD.size:at + self._RECORD.size + size])
            if final or not self.moved(counter) or attempt == 9999:
                return _Snapshot(current, index, Phase(phase), cpu_start, spent,
                                 data.decode("utf-8", "surrogatepass"))
        raise AssertionError("unreachable")

    def moved(self, counter: int) -> bool:
        return self._COUNTER.unpack_from(self.memory, 0)[0] != counter


_POLL = 0.02  # seconds between the parent's looks at the worker's progress


def backstop(budget: float) -> float:
    """Wall-clock seconds after which a stretch is stopped whatever its CPU use (a stuck worker)."""
    return 30.0 + 10.0 * budget


class _Child:
    """A forked worker: killed and reaped exactly once, whatever happens."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.status: int | None = None

    def reap(self) -> int:
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)
        return self.status

    def end(self) -> None:
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.reap()


def _worker(paths, start, grade: GradeOne, setup: _Setup, skips, outcomes) -> _Stop | None:
    """Grade paths[start:] in one child; None when all are done, else where it stopped."""
    parent = os.getpid()
    progress = _Progress(start, parent)
    read_end, write_end = os.pipe()
    gc.freeze()  # the worker's collector leaves what is here alone: no pages copied just to look
    pid = os.fork()
    if pid != 0:
        gc.unfreeze()
    if pid == 0:  # the worker: never returns into the caller's code
        os.close(read_end)
        _work(write_end, progress, paths, start, grade, setup, skips, parent, outcomes)
    os.close(write_end)
    child = _Child(pid)
    try:
        return _watch(child, read_end, progress, setup, outcomes)
    finally:  # every way out, an interrupt included, ends the worker
        child.end()
        os.close(read_end)
        progress.memory.close()


def _watch(child: _Child, read_end: int, progress: _Progress, setup: _Setup, outcomes) -> _Stop | None:
    clock = process.cpu_clock(child.pid)
    limits = setup.limits
    seen, wall_start, buffer = -1, 0.0, b""
    while True:
        snap = progress.get()
        if snap.counter != seen:  # the worker moved on: a fresh stretch, on its budget's account
            seen, wall_start = snap.counter, time.monotonic()
        budget = limits.answer_seconds if snap.phase.per_answer else limits.load_seconds
        used = snap.spent + _cpu_since(clock, snap.cpu_start, wall_start)
        if progress.moved(seen):
            continue  # it moved on while we looked: judge the new stretch instead
        wall = time.monotonic() - wall_start
        if used > budget:
            child.end()
            return _Stop(snap.index, snap.phase, snap.label,
                         f"took longer than {budget:g} s" + (" of CPU time" if clock else ""))
        if wall > backstop(budget):
            child.end()
            return _Stop(snap.index, snap.phase, snap.label,
                         f"was still running after {backstop(budget):g} s on the clock (stuck?)")
        wait = max(0.001, min(_POLL, budget - used, backstop(budget) - wall))
        if not select.select([read_end], [], [], wait)[0]:
            continue
        chunk = os.read(read_end, 1 << 16)
        if not chunk:  # the worker ended early: look where it was *after* it died, not before
            status = child.reap()
            last = progress.get(final=True)
            return _Stop(last.index, last.phase, last.label, _why_it_ended(status, last, setup))
        buffer += chunk
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            finished, batch = pickle.loads(buffer[_HEADER.size:_HEADER.size + size])
            buffer = buffer[_HEADER.size + size:]
            for done_index, outcome in batch:
                outcomes[done_index] = outcome
            if finished:
                return None


def _cpu_since(clock, cpu_start: float, wall_start: float) -> float:
    """CPU seconds the worker used since ``cpu_start``; wall-clock time where its clock is unreadable."""
    if clock is not None:
        try:
            return max(0.0, clock() - cpu_start)
        except (OSError, ValueError, IndexError):
            return 0.0  # it just ended: the pipe says so next
    return time.monotonic() - wall_start


def _work(fd: int, progress: _Progress, paths, start, grade: GradeOne, setup: _Setup, skips,
          parent: int, outcomes) -> None:
    batch: list = []
    sent = time.monotonic()

    def send(finished: bool = False) -> None:
        """The results graded since the last send, in one message (not one wake-up per file)."""
        nonlocal batch, sent
        data = pickle.dumps((finished, batch))
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[os.write(fd, view):]
        batch, sent = [], time.monotonic()

    code = _FAILED
    try:
        process.detach(parent, setup.die_with_parent)
        setup.memory.apply()
        progress.cpu_limit = process.CpuLimit()
        progress.budgets = (setup.limits.load_seconds, setup.limits.answer_seconds)
        for index in range(start, len(paths)):
            if outcomes[index] is not None:  # graded by an earlier worker
                continue
            progress.set(index, Phase.READING)
            result, crash = grade(paths[index], lambda phase, label, i=index: progress.set(i, phase, label),
                                  skips[index])
            if crash is not None:  # exceptions may not pickle: keep the words, for --debug
                crash = RuntimeError(f"{type(crash).__name__}: {crash}")
            batch.append((index, (result, crash)))
            if len(batch) >= _BATCH or time.monotonic() - sent >= _BATCH_SECONDS:
                send()
        send(finished=True)
        code = 0
    except MemoryError:
        code = _OUT_OF_MEMORY
    except BaseException:  # anything else: the parent reports it against the current item
        code = _FAILED
    finally:
        os._exit(code)


def _why_it_ended(status: int, last: _Snapshot, setup: _Setup) -> str:
    code, number = process.ended_how(status)
    if code == _OUT_OF_MEMORY:
        return f"ran out of memory ({setup.memory.describe()})"
    if number == getattr(signal, "SIGXCPU", None):
        budget = setup.limits.answer_seconds if last.phase.per_answer else setup.limits.load_seconds
        return f"took longer than {budget:g} s of CPU time"
    if number == signal.SIGKILL:
        return "was killed from outside (perhaps the system ran out of memory)"
    if number is not None:
        return f"crashed (signal {number})"
    return "failed unexpectedly"


def with_limits(limits: Limits, seconds: float | None, memory_mb: int | None) -> Limits:
    """The limits with command-line overrides."""
    changes = {}
    if seconds is not None:
        changes["answer_seconds"] = seconds
    if memory_mb is not None:
        changes["memory_mb"] = memory_mb
    return replace(limits, **changes)
