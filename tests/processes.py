"""Running ``python -m backprop_cli`` as a real process, for what CliRunner cannot show:
signals, a worker left behind, the bytes written under a strict locale, named pipes, load.

Output is kept as bytes, so that a test can check it is valid UTF-8.  Every process runs
in its own session and is killed as a group past a generous hang guard, which is never a
timing assertion.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HANG_GUARD = 60.0  # seconds; only a guard against hangs


@dataclass
class Finished:
    args: tuple
    code: int
    stdout: bytes
    stderr: bytes

    def __str__(self) -> str:
        return (f"backprop {' '.join(map(str, self.args))[:300]}\n--- exit {self.code}\n"
                f"--- stdout:\n{self.stdout[:4000]!r}\n--- stderr:\n{self.stderr[:4000]!r}")

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8")  # strict: invalid UTF-8 fails the test


def environment(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update(NO_COLOR="1", COLUMNS="100")
    env.update(changes)
    return env


def spawn(*args, cwd: Path, env: dict[str, str] | None = None, memory: int | None = None) -> subprocess.Popen:
    """Start ``backprop ARGS`` (bytes in and out, its own session); ``memory`` caps RLIMIT_AS."""
    def limit() -> None:
        if memory is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    command = [sys.executable, "-m", "backprop_cli", *(a if isinstance(a, bytes) else str(a) for a in args)]
    return subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env or environment(), start_new_session=True, preexec_fn=limit)


def finish(proc: subprocess.Popen, timeout: float = HANG_GUARD) -> Finished:
    """Wait for ``proc``; past ``timeout`` kill its group and fail as a hang."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        out, err = proc.communicate()
        pytest.fail(f"HANG: {proc.args[3:]} still running after {timeout:g} s (killed)\n{out[:2000]!r}\n{err[:2000]!r}")
    return Finished(tuple(proc.args[3:]), proc.returncode, out, err)


def run(*args, cwd: Path, env: dict[str, str] | None = None, memory: int | None = None) -> Finished:
    return finish(spawn(*args, cwd=cwd, env=env, memory=memory))


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return found


def state(pid: int) -> tuple[str, float] | None:
    """(state letter, CPU seconds) of a process, or None when it no longer exists."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def running(pid: int) -> bool:
    """Alive and not a zombie (a container's PID 1 may never reap an orphan)."""
    found = state(pid)
    return found is not None and found[0] not in "ZX"


def wait_for(condition, timeout: float = HANG_GUARD, what: str = "a condition") -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"HANG: waited {timeout:g} s for {what}")
        time.sleep(0.05)
