"""What every command shares: settings, output options, and turning errors into messages.

No traceback reaches a user: a BackpropError prints its problems (file, line,
column, what to change) and exits 2; anything else is reported as an internal
error with exit 3, and ``backprop --debug`` shows the traceback.  Ctrl-C exits
130 and SIGTERM 143 (128 + the signal, as shells report it), after the grading
worker has been stopped.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
from dataclasses import dataclass

import click

EXIT_OK, EXIT_WRONG, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 128 + signal.SIGINT, 128 + signal.SIGTERM  # 130, 143
_STOPPING = ("SIGINT", "SIGTERM", "SIGHUP")


@dataclass(frozen=True)
class Settings:
    """Options of the ``backprop`` group that every command sees."""

    debug: bool = False


color_option = click.option(
    "--color/--no-color", default=None,
    help="Force colour on or off (default: on for a terminal, off when piped or NO_COLOR is set).")


class Stopped(SystemExit):
    """Raised by the signal handler: unwinding ends the grading worker, then the process exits."""

    def __init__(self, number: int) -> None:
        super().__init__(128 + number)
        self.number = number


@contextlib.contextmanager
def stop_on_signals():
    """Turn Ctrl-C, SIGTERM and SIGHUP into a clean stop with exit code 128 + the signal.

    Click would turn Ctrl-C into "Aborted!" and exit 1, which is also "an
    answer is wrong"; and an unhandled SIGTERM would skip the ``finally`` that
    kills the worker.
    """
    def stop(number, frame):
        raise Stopped(number)

    previous = {}
    for name in _STOPPING:
        number = getattr(signal, name, None)
        if number is None:
            continue
        try:
            previous[number] = signal.signal(number, stop)
        except (ValueError, OSError):  # not the main thread: leave signals alone
            pass
    try:
        yield
    except Stopped as stopped:
        with contextlib.suppress(Exception):
            click.echo(f"backprop: stopped ({signal.Signals(stopped.number).name})", err=True)
        raise
    finally:
        for number, handler in previous.items():
            with contextlib.suppress(ValueError, OSError):
                signal.signal(number, handler)


def tolerant_output() -> None:
    """Never fail on a character the terminal's encoding lacks: write it as an escape instead."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")


def debug_enabled() -> bool:
    ctx = click.get_current_context(silent=True)
    settings = ctx.find_object(Settings) if ctx else None
    return bool(settings and settings.debug)


def friendly_errors(fn):
    """Run a command body; report user errors plainly and bugs without a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from backprop_cli.source.errors import BackpropError

        debug = debug_enabled()
        try:
            return fn(*args, **kwargs)
        except BackpropError as err:
            if debug:
                raise
            print_problems(err.problems)
            sys.exit(EXIT_UNUSABLE)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as err:
            if debug:
                raise
            click.echo(f"backprop: internal error: {type(err).__name__}: {err}\n"
                       "This is a bug in backprop; run with --debug for the traceback "
                       "and please report it.", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


def print_problems(problems) -> None:
    for problem in problems:
        click.echo(problem.render(), err=True)
