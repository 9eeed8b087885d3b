"""Running the CLI in tests: the one CliRunner helper, with colour off and a pinned width."""

from __future__ import annotations

from click.testing import CliRunner, Result

from backprop_cli.cli import main

ENV = {"NO_COLOR": "1", "COLUMNS": "100"}


def shown(args, result: Result) -> str:
    """Everything a run printed, for assertion messages."""
    return (f"backprop {' '.join(map(str, args))}\n--- exit {result.exit_code}\n"
            f"--- stdout:\n{result.stdout}\n--- stderr:\n{result.stderr}\n"
            f"--- exception: {result.exception!r}")


def invoke(*args, code: int | None = None, **env) -> Result:
    """Run ``backprop ARGS`` in-process; assert the exit code (when given), no crash, no traceback.

    ``env`` adds to (or, with None values, removes from) the pinned environment.
    """
    result = CliRunner(env={**ENV, **env}).invoke(main, [str(a) for a in args], prog_name="backprop")
    message = shown(args, result)
    if code is not None:
        assert result.exit_code == code, message
    assert result.exception is None or isinstance(result.exception, SystemExit), message
    assert "Traceback" not in result.output, message
    return result
