"""``check --watch``: graded again on each save, Ctrl-C exits 0.

The command runs in a subprocess (the point is the process: its loop and its signal);
the test waits for each report to appear, with a generous deadline, and never measures
how long anything took.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from backprop_cli.cli.watch import stamps
from cli_runner import invoke

ROOT = Path(__file__).resolve().parents[1]
DEADLINE = 120  # seconds to wait for a report that should come at once: a guard, not a measure


class Running:
    def __init__(self, *args, cwd: Path) -> None:
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "backprop_cli", *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     encoding="utf-8")
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.seen: list[str] = []

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)

    def until(self, text: str, count: int = 1) -> str:
        """Read output until ``text`` has appeared ``count`` times; all of it so far."""
        while sum(text in line for line in self.seen) < count:
            try:
                self.seen.append(self.lines.get(timeout=DEADLINE))
            except queue.Empty:
                self.proc.kill()
                raise AssertionError(f"no {text!r} after {DEADLINE} s:\n{''.join(self.seen)}")
        return "".join(self.seen)


def test_watch_grades_again_on_save_and_ctrl_c_exits_0(tmp_path):
    exercise = tmp_path / "ex.yaml"
    exercise.write_text((ROOT / "exercises" / "linear-model.yaml").read_text(encoding="utf-8"),
                        encoding="utf-8")
    run = Running("check", "ex.yaml", "--watch", cwd=tmp_path)
    try:
        first = run.until("Watching ex.yaml")
        assert "Score: 0/8" in first
        with exercise.open("a", encoding="utf-8") as f:
            f.write("answers:\n  y_hat: 1\n  r: -1\n")
        second = run.until("Watching ex.yaml", 2)
        assert "Score: 2/8" in second
        run.proc.send_signal(signal.SIGINT)
        assert run.proc.wait(timeout=DEADLINE) == 0
    finally:
        if run.proc.poll() is None:
            run.proc.kill()


def test_watch_takes_the_text_report_only(tmp_path):
    result = invoke("check", ROOT / "exercises" / "linear-model.yaml", "--watch", "--format", "json")
    assert result.exit_code == 2 and "--watch shows the text report" in result.output


def test_stamps_change_when_a_file_is_saved_or_removed(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("x: 1\n", encoding="utf-8")
    before = stamps([str(path)])
    path.write_text("x: 12\n", encoding="utf-8")
    assert stamps([str(path)]) != before
    path.unlink()
    assert stamps([str(path)]) == (None,)
