"""Grading files in a child process, bounded in time per answer and in memory.

Pure-Python guards cannot stop SymPy or CPython in the middle of C code (a
huge power, a float literal with a million digits), so files are graded in a
forked worker with an address-space limit, and the parent kills it when one
item runs past its time.  The worker says which file and item it is working on
as it goes; when it is killed (or runs out of memory), that item is marked
invalid and a fresh worker carries on from there.  On the common path one
worker grades the whole batch, with its caches warm, so the bound costs one
fork per ``check`` rather than one per file.

Where ``os.fork`` does not exist (Windows), files are graded in-process with
only the structural limits of :mod:`backprop_cli.source.limits`.
"""

from __future__ import annotations

import mmap
import os
import pickle
import select
import signal
import struct
import time
from dataclasses import replace
from typing import Callable

from backprop_cli.grading.budget import Phase, Skips, Watch
from backprop_cli.grading.results import FileResult
from backprop_cli.source.limits import DEFAULT, Limits

_HEADER = struct.Struct("!I")
_OUT_OF_MEMORY = 3  # the worker's exit code when an allocation failed

Outcome = tuple[FileResult, "Exception | None"]  # the result, and a crash for --debug
GradeOne = Callable[[str, Watch, Skips], Outcome]  # grade one file, reporting progress


def run_inline(paths: list[str], grade: GradeOne) -> list[Outcome]:
    """Grade each file in this process, bounded only by the structural limits."""
    return [grade(path, lambda phase, label: None, {}) for path in paths]


def run_bounded(paths: list[str], grade: GradeOne, limits: Limits = DEFAULT) -> list[Outcome]:
    """Grade each file in a forked worker, each item bounded in time and the worker in memory."""
    if not hasattr(os, "fork"):
        return run_inline(paths, grade)
    outcomes: list[Outcome | None] = [None] * len(paths)
    skips: list[Skips] = [{} for _ in paths]
    start = 0
    while start < len(paths):
        failed = _worker(paths, start, grade, limits, skips, outcomes)
        if failed is None:
            break
        index, phase, item, why = failed
        if phase is Phase.LOADING or (phase, item) in skips[index]:
            outcomes[index] = (FileResult(paths[index], None, None,
                                          f"{paths[index]}: {why} while reading the exercise"), None)
            start = index + 1
        elif phase is Phase.TRACE:  # only the explanation was too slow: grade, but leave it out
            skips[index][phase, item] = why
            start = index
        else:
            skips[index][phase, item] = (f"grading this answer {why}; it was stopped "
                                         "(the other answers are graded)")
            start = index
    return outcomes


class _Progress:
    """Where the worker is, in memory shared with the parent: no system call per item.

    The worker bumps a counter and writes the file index and item label as it
    starts each one; the parent looks every few milliseconds and restarts the
    item's clock whenever the counter moves.
    """

    _FIXED = struct.Struct("!QIBH")  # counter, file index, phase, label length
    SIZE = 4096

    def __init__(self) -> None:
        self.memory = mmap.mmap(-1, self.SIZE)  # anonymous and shared with a forked child
        self.counter = 0

    def set(self, index: int, phase: Phase, label: str = "") -> None:
        data = label.encode("utf-8", "surrogatepass")[: self.SIZE - self._FIXED.size]
        self.counter += 1
        self.memory[self._FIXED.size:self._FIXED.size + len(data)] = data
        self._FIXED.pack_into(self.memory, 0, self.counter, index, phase, len(data))

    def get(self) -> tuple[int, int, Phase, str]:
        counter, index, phase, size = self._FIXED.unpack_from(self.memory, 0)
        data = bytes(self.memory[self._FIXED.size:self._FIXED.size + size])
        return counter, index, Phase(phase), data.decode("utf-8", "surrogatepass")


_POLL = 0.02  # seconds between the parent's looks at the worker's progress


def _worker(paths, start, grade: GradeOne, limits: Limits, skips, outcomes):
    """Grade paths[start:] in one child; None when all are done, else (file, phase, item, what went wrong)."""
    progress = _Progress()
    progress.set(start, Phase.LOADING)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns into the caller's code
        os.close(read_end)
        _work(write_end, progress, paths, start, grade, limits, skips)
    os.close(write_end)
    seen, deadline = -1, 0.0
    buffer = b""
    try:
        while True:
            counter, index, phase, item = progress.get()
            if counter != seen:  # the worker moved on: a fresh clock for the new file or item
                seen = counter
                budget = limits.load_seconds if phase is Phase.LOADING else limits.answer_seconds
                deadline = time.monotonic() + budget
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                return index, phase, item, f"took longer than {budget:g} s"
            if not select.select([read_end], [], [], min(left, _POLL))[0]:
                continue
            chunk = os.read(read_end, 1 << 16)
            if not chunk:  # the worker ended early
                return index, phase, item, _why_it_ended(pid, limits)
            buffer += chunk
            while len(buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(buffer)
                if len(buffer) < _HEADER.size + size:
                    break
                kind, payload = pickle.loads(buffer[_HEADER.size:_HEADER.size + size])
                buffer = buffer[_HEADER.size + size:]
                if kind == "finished":
                    return None
                done_index, outcome = payload
                outcomes[done_index] = outcome
    finally:
        os.close(read_end)
        progress.memory.close()
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass  # already reaped by _why_it_ended


def _work(fd: int, progress: _Progress, paths, start, grade: GradeOne, limits: Limits, skips) -> None:
    def send(kind: str, payload=None) -> None:
        data = pickle.dumps((kind, payload))
        view = memoryview(_HEADER.pack(len(data)) + data)
        while view:
            view = view[os.write(fd, view):]

    code = 0
    try:
        _limit_memory(limits.memory_mb)
        for index in range(start, len(paths)):
            progress.set(index, Phase.LOADING)
            result, crash = grade(paths[index], lambda phase, label, i=index: progress.set(i, phase, label),
                                  skips[index])
            if crash is not None:  # exceptions may not pickle: keep the words, for --debug
                crash = RuntimeError(f"{type(crash).__name__}: {crash}")
            send("done", (index, (result, crash)))
        send("finished")
    except MemoryError:
        code = _OUT_OF_MEMORY
    except BaseException:  # anything else: the parent reports it against the current item
        code = 4
    finally:
        os._exit(code)


def _why_it_ended(pid: int, limits: Limits) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == _OUT_OF_MEMORY:
        return f"ran out of memory (the limit is {limits.memory_mb} MB)"
    if os.WIFSIGNALED(status):
        return f"crashed (signal {os.WTERMSIG(status)})"
    return "failed unexpectedly"


def _limit_memory(megabytes: int) -> None:
    """Let grading add at most ``megabytes`` to the address space the worker starts with.

    The limit is on top of what is already mapped: a long-lived parent (a test
    run, a batch with warm caches) may already map gigabytes, and an absolute
    limit would fail the first allocation.
    """
    try:
        import resource

        size = _mapped_bytes() + megabytes * (1 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    except (ImportError, ValueError, OSError):
        pass  # not every system lets a process lower its own limit; time is still bounded


def _mapped_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def with_limits(limits: Limits, seconds: float | None, memory_mb: int | None) -> Limits:
    """The limits with command-line overrides."""
    changes = {}
    if seconds is not None:
        changes["answer_seconds"] = seconds
    if memory_mb is not None:
        changes["memory_mb"] = memory_mb
    return replace(limits, **changes)
