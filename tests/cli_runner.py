"""Running the CLI in tests: one CliRunner helper, with colour off and a pinned width."""

from __future__ import annotations

from click.testing import CliRunner

from backprop_cli.cli import main

ENV = {"NO_COLOR": "1", "COLUMNS": "100"}


def invoke(*args):
    """Run ``backprop ARGS``; on a crash or a traceback, fail showing everything it printed."""
    result = CliRunner(env=ENV).invoke(main, [str(a) for a in args], prog_name="backprop")
    shown = (f"backprop {' '.join(map(str, args))}\n--- exit {result.exit_code}\n"
             f"--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}\n"
             f"--- exception: {result.exception!r}")
    assert result.exception is None or isinstance(result.exception, SystemExit), shown
    assert "Traceback" not in result.output, shown
    return result
