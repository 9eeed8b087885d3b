"""Grading one file in a child process, bounded in time and in memory.

Pure-Python guards cannot stop SymPy or CPython in the middle of C code (a
huge power, a float literal with a million digits), so each exercise file is
graded in a forked child with an address-space limit, and the parent kills it
when one item runs past its time.  The child reports which item it is working
on as it goes; when it is killed (or runs out of memory), that item is marked
invalid and a fresh child grades the rest.  The common path costs one fork per
file: the parent has already imported SymPy, so the child starts warm.

Where ``os.fork`` does not exist (Windows), files are graded in-process with
only the structural limits of :mod:`backprop_cli.limits`.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import time
from dataclasses import replace

from backprop_cli.limits import DEFAULT, Limits
from backprop_cli.results import FileResult

_HEADER = struct.Struct("!I")
LOADING = None  # what the child is doing before it reaches the first item
_OUT_OF_MEMORY = 3  # the child's exit code when an allocation failed


def check_file(path: str, answers=None, answers_for: str | None = None, limits: Limits = DEFAULT,
               watch=lambda label: None, skip: dict[str, str] | None = None) -> tuple[FileResult, Exception | None]:
    """Grade one file in this process: the result, and the exception of a crash (for --debug)."""
    from backprop_cli.grading import grade_file
    from backprop_cli.results import summarize

    report = grade_file(path, answers, answers_for, limits, watch, skip)
    return summarize(report, watch, skip), report.crash


def check_file_bounded(path: str, answers=None, answers_for: str | None = None,
                       limits: Limits = DEFAULT) -> tuple[FileResult, Exception | None]:
    if not hasattr(os, "fork"):
        return check_file(path, answers, answers_for, limits)
    skip: dict[str, str] = {}
    while True:
        outcome, culprit, why = _one_child(path, answers, answers_for, limits, skip)
        if outcome is not None:
            return outcome
        if culprit is LOADING or culprit in skip:
            return FileResult(path, None, None, f"{path}: {why} while reading the exercise"), None
        skip[culprit] = f"grading this answer {why}; it was stopped (the other answers are graded)"


def _one_child(path, answers, answers_for, limits: Limits, skip):
    """Run one child; (result, None, None), or (None, the item it was on, what went wrong)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: grade, reporting progress; never return into the caller's code
        os.close(read_end)
        _child(write_end, path, answers, answers_for, limits, skip)
    os.close(write_end)
    current, budget = LOADING, limits.load_seconds
    deadline = time.monotonic() + budget
    buffer = b""
    try:
        while True:
            left = deadline - time.monotonic()
            ready = select.select([read_end], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                seconds = limits.load_seconds if current is LOADING else limits.answer_seconds
                return None, current, f"took longer than {seconds:g} s"
            chunk = os.read(read_end, 1 << 16)
            if not chunk:  # the child ended without a result
                return None, current, _why_it_ended(pid, limits)
            buffer += chunk
            while len(buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(buffer)
                if len(buffer) < _HEADER.size + size:
                    break
                kind, payload = pickle.loads(buffer[_HEADER.size:_HEADER.size + size])
                buffer = buffer[_HEADER.size + size:]
                if kind == "done":
                    return payload, None, None
                current, deadline = payload, time.monotonic() + limits.answer_seconds
    finally:
        os.close(read_end)
        _reap(pid)


def _why_it_ended(pid: int, limits: Limits) -> str:
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == _OUT_OF_MEMORY:
        return f"ran out of memory (the limit is {limits.memory_mb} MB)"
    if os.WIFSIGNALED(status):
        return f"crashed (signal {os.WTERMSIG(status)})"
    return "failed unexpectedly"


def _child(fd: int, path, answers, answers_for, limits: Limits, skip) -> None:
    def send(kind: str, payload) -> None:
        data = pickle.dumps((kind, payload))
        os.write(fd, _HEADER.pack(len(data)))
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    code = 0
    try:
        _limit_memory(limits.memory_mb)
        result, crash = check_file(path, answers, answers_for, limits, lambda label: send("item", label), skip)
        if crash is not None:  # exceptions may not pickle: keep the words, for --debug
            crash = RuntimeError(f"{type(crash).__name__}: {crash}")
        send("done", (result, crash))
    except MemoryError:
        code = _OUT_OF_MEMORY
    except BaseException:  # anything else: the parent reports it like a crash of this item
        code = 4
    finally:
        os._exit(code)


def _limit_memory(megabytes: int) -> None:
    try:
        import resource

        size = megabytes * (1 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    except (ImportError, ValueError, OSError):
        pass  # not every system lets a process lower its own limit; time is still bounded


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def with_limits(limits: Limits, seconds: float | None, memory_mb: int | None) -> Limits:
    """The limits with command-line overrides."""
    changes = {}
    if seconds is not None:
        changes["answer_seconds"] = seconds
    if memory_mb is not None:
        changes["memory_mb"] = memory_mb
    return replace(limits, **changes)
