"""What a forked grading worker needs from the operating system.

- its CPU clock, read from the parent, so that a time limit counts the work
  done and not how busy the machine is;
- limits it sets on itself (address space, CPU seconds), never raising one it
  inherited;
- dying with its parent, and letting go of the parent's terminal and pipes.

Everything here degrades quietly where the system lacks a feature: without a
readable CPU clock the runner falls back to wall-clock time, without ``prctl``
the worker notices a dead parent between items.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Callable

try:
    import resource
except ImportError:  # not on Windows, where nothing is forked anyway
    resource = None  # type: ignore[assignment]

MIB = 1 << 20
_CPUCLOCK_SCHED = 2  # Linux: the clock id of process pid is ((~pid) << 3) | CPUCLOCK_SCHED
_PR_SET_PDEATHSIG = 1


# ------------------------------------------------------------------ the child's CPU time

def cpu_clock(pid: int) -> Callable[[], float] | None:
    """A function giving process ``pid``'s CPU seconds (user + system), or None if unreadable.

    On Linux the kernel exposes every process's CPU clock to ``clock_gettime``;
    /proc/PID/stat is the fallback (tick resolution).  The child reads its own
    clock with ``time.process_time``, which is the same clock.
    """
    if not sys.platform.startswith("linux"):
        return None
    clock_id = ((~pid) << 3) | _CPUCLOCK_SCHED
    try:
        time.clock_gettime(clock_id)
        return lambda: time.clock_gettime(clock_id)
    except (OSError, OverflowError, AttributeError):
        pass
    path, tick = f"/proc/{pid}/stat", os.sysconf("SC_CLK_TCK")

    def from_proc() -> float:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime and stime, fields 14 and 15

    try:
        from_proc()
    except (OSError, ValueError, IndexError):
        return None
    return from_proc


def own_cpu() -> float:
    return time.process_time()


# ------------------------------------------------------------------ memory

@dataclass(frozen=True)
class MemoryLimit:
    """The worker's address-space limit, planned in the parent (which knows what it maps)."""

    megabytes: int  # what grading may add, as asked (--memory-limit)
    total: int | None  # the worker's RLIMIT_AS in bytes; None when it cannot be limited
    outside: bool = False  # an inherited limit (ulimit -v) was lower than ours and stays

    @classmethod
    def plan(cls, megabytes: int) -> "MemoryLimit":
        if resource is None or not hasattr(resource, "RLIMIT_AS"):
            return cls(megabytes, None)
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        except (OSError, ValueError):
            return cls(megabytes, None)
        wanted = mapped_bytes() + megabytes * MIB
        inherited = [x for x in (soft, hard) if x != resource.RLIM_INFINITY and x >= 0]
        if inherited and min(inherited) <= wanted:
            return cls(megabytes, min(inherited), outside=True)
        return cls(megabytes, wanted)

    def apply(self) -> None:
        """Set the limit in the worker: lower only, never above an inherited one."""
        if self.total is None or self.outside or resource is None:
            return
        try:
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            size = self.total if hard == resource.RLIM_INFINITY else min(self.total, hard)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        except (ValueError, OSError):
            pass  # not every system lets a process lower its own limit; time is still bounded

    def describe(self) -> str:
        """How the limit reads in 'ran out of memory (...)'."""
        if self.outside and self.total is not None:
            return (f"the process may use {self.total // MIB} MB in all, a limit set from outside "
                    f"backprop, e.g. by ulimit -v")
        return f"the limit is {self.megabytes} MB"


def mapped_bytes() -> int:
    """What this process maps now (the worker starts with the same)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# ------------------------------------------------------------------ CPU seconds

class CpuLimit:
    """RLIMIT_CPU for the worker, moved as it goes from one budget to the next.

    The kernel sends SIGXCPU once the process has used ``soft`` CPU seconds.
    It counts whole seconds only, so it is the second line behind the parent's
    own, finer accounting (which it trails by a second), and the only one
    where the parent cannot read the worker's clock.  An inherited soft limit
    that is lower is kept.
    """

    def __init__(self) -> None:
        self.ceiling: int | None = None
        self.hard = None
        if resource is None or not hasattr(resource, "RLIMIT_CPU"):
            return
        try:
            soft, self.hard = resource.getrlimit(resource.RLIMIT_CPU)
        except (OSError, ValueError):
            self.hard = None
            return
        if soft != resource.RLIM_INFINITY:
            self.ceiling = soft

    def allow(self, now: float, seconds: float) -> None:
        """Let the worker run ``seconds`` more CPU seconds from ``now`` (its CPU time)."""
        if self.hard is None:
            return
        soft = math.ceil(now + max(0.0, seconds)) + 1
        if self.ceiling is not None:
            soft = min(soft, self.ceiling)
        if self.hard != resource.RLIM_INFINITY:
            soft = min(soft, self.hard)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, self.hard))
        except (ValueError, OSError):
            self.hard = None  # stop trying; the parent's accounting still holds


# ------------------------------------------------------------------ living and dying

def die_with_parent() -> Callable[[], None]:
    """Prepared in the parent: a call for the child that asks the kernel to kill it with its parent.

    Linux's ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; a no-op elsewhere (the worker
    then checks its parent between items).  Resolved before forking, so the
    child does not import ctypes.
    """
    if not sys.platform.startswith("linux"):
        return lambda: None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return lambda: None
    return lambda: prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def default_signals() -> None:
    """In a forked worker: the parent's stop handlers (which raise to unwind the parent) must not
    run here; Ctrl-C is the parent's to handle, and SIGTERM simply ends the worker."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP", "SIGPIPE"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def detach(parent: int, ask_kernel: Callable[[], None]) -> None:
    """In the child, right after fork: die with the parent, leave signals and stdio to it."""
    ask_kernel()
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(1)
    default_signals()
    try:  # never hold the caller's terminal or pipes: output goes through the result pipe
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
    except OSError:
        pass


def ended_how(status: int) -> tuple[int | None, int | None]:
    """(exit code, signal) of a reaped child's wait status."""
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status), None
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    return None, None
