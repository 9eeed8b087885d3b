"""What every command shares: settings, output options, and turning errors into messages.

No traceback reaches a user: a BackpropError prints its problems (file, line,
column, what to change) and exits 2; anything else is reported as an internal
error with exit 3, and ``backprop --debug`` shows the traceback.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass

import click

EXIT_OK, EXIT_WRONG, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3


@dataclass(frozen=True)
class Settings:
    """Options of the ``backprop`` group that every command sees."""

    debug: bool = False


color_option = click.option(
    "--color/--no-color", default=None,
    help="Force colour on or off (default: on for a terminal, off when piped or NO_COLOR is set).")


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
