"""Grade mutated exercises in batches and report what came out.

    python fuzz/check_run.py [--files 3000] [--batch 100] [--seed 1] [--out DIR] [--time-limit S]

Each batch is one ``backprop check --format json`` process over ``--batch`` files of
``fuzz/mutate.py``.  The report counts exit codes and checks the contract: stdout is
valid UTF-8 and valid JSON with one entry per file, no exit code 3, no traceback, and no
"internal error" for a file or an item.  Findings are listed with the files that caused
them (the files are kept in --out).  Exit 1 when there is any finding.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutate import generate  # noqa: E402


@dataclass
class Tally:
    files: int = 0
    batches: int = 0
    exits: collections.Counter = field(default_factory=collections.Counter)
    per_file: collections.Counter = field(default_factory=collections.Counter)  # each file's own exit code
    files_with_error: int = 0
    error_kinds: collections.Counter = field(default_factory=collections.Counter)
    statuses: collections.Counter = field(default_factory=collections.Counter)
    findings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def report(self) -> str:
        def counts(counter) -> str:
            return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items()))

        lines = [f"{self.files} files in {self.batches} batches, {self.seconds:.0f} s",
                 f"exit codes of the batches: {counts(self.exits)}",
                 f"exit code each file would get alone: {counts(self.per_file)}",
                 f"items: {counts(self.statuses)}",
                 f"files that could not be used: {self.files_with_error}; the most common reasons:"]
        lines += [f"  {n:5d}  {kind}" for kind, n in self.error_kinds.most_common(25)]
        lines.append(f"findings: {len(self.findings)}")
        return "\n".join(lines + [f"  {f}" for f in self.findings[:50]])


def check_batch(paths: list[Path], tally: Tally, extra: list[str]) -> None:
    """Run one `check` over ``paths`` and add what it did to ``tally``."""
    command = [sys.executable, "-m", "backprop_cli", "check", *map(str, paths), "--format", "json", *extra]
    before = set(paths[0].parent.iterdir())
    proc = subprocess.run(command, capture_output=True, timeout=3600, cwd=paths[0].parent)
    appeared = set(paths[0].parent.iterdir()) - before
    if appeared:  # a payload such as open('CANARY', 'w') ran
        tally.findings.append(f"files appeared: {sorted(p.name for p in appeared)}")
    tally.batches += 1
    tally.files += len(paths)
    tally.exits[proc.returncode] += 1
    where = f"batch {paths[0].name}..{paths[-1].name}"
    if proc.returncode not in (0, 1, 2):
        tally.findings.append(f"{where}: exit {proc.returncode}: {proc.stderr[-500:]!r}")
    if b"Traceback" in proc.stderr or b"internal error" in proc.stderr:
        tally.findings.append(f"{where}: stderr {proc.stderr[-500:]!r}")
    try:
        document = json.loads(proc.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        tally.findings.append(f"{where}: stdout is not UTF-8 JSON: {err}")
        return
    exercises = document.get("exercises", [])
    if len(exercises) != len(paths):
        tally.findings.append(f"{where}: {len(exercises)} results for {len(paths)} files")
    for path, exercise in zip(paths, exercises):
        alone = 2 if exercise["error"] is not None else (
            0 if all(i["status"] == "correct" for i in exercise["items"]) else 1)
        tally.per_file[alone] += 1
        if exercise["error"] is not None:
            tally.files_with_error += 1
            tally.error_kinds[_kind(exercise["error"])] += 1
            if "internal error" in exercise["error"]:
                tally.findings.append(f"{path.name}: file-level {exercise['error'][:300]!r}")
        for item in exercise["items"]:
            tally.statuses[item["status"]] += 1
            text = json.dumps(item, ensure_ascii=False)
            if "internal error" in text:
                tally.findings.append(f"{path.name}: item {item['key']!r}: {item['message'] or item['note']!r}")


def _kind(error: str) -> str:
    """An error message without its place, names and numbers: what kind of problem it is."""
    first = re.sub(r"^\S*?:\d+:\d+: |^\S+\.yaml: ", "", error.splitlines()[0])
    return re.sub(r"'[^']*'|\d+(\.\d+)?", "_", first)[:90]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--time-limit", type=float, help="passed on to check (default: check's own)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="backprop-fuzz-"))
    extra = ["--time-limit", str(args.time_limit)] if args.time_limit else []
    tally = Tally()
    start = time.monotonic()
    for first in range(0, args.files, args.batch):
        paths = generate(out, min(args.batch, args.files - first), args.seed, first)
        check_batch(paths, tally, extra)
        tally.seconds = time.monotonic() - start
        print(f"{tally.files} files, exits {dict(tally.exits)}, findings {len(tally.findings)}, "
              f"{tally.seconds:.0f} s", flush=True)
    print(f"\nfiles kept in {out}\n" + tally.report())
    return 1 if tally.findings else 0


if __name__ == "__main__":
    sys.exit(main())
