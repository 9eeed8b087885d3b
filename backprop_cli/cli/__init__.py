"""The ``backprop`` command: a thin layer of click commands over the library.

Command modules import the library (and so SymPy) inside their functions, so
``backprop --help`` answers at once.
"""

from __future__ import annotations

import click

from backprop_cli import __version__
from backprop_cli.cli.catalog import catalog
from backprop_cli.cli.check import check
from backprop_cli.cli.common import Settings, stop_on_signals, tolerant_output
from backprop_cli.cli.copies import blank, variant
from backprop_cli.cli.explain import explain
from backprop_cli.cli.grade import grade
from backprop_cli.cli.schema import schema
from backprop_cli.cli.solve import solve
from backprop_cli.cli.validate import validate

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Backprop(click.Group):
    """The command group, run with clean stops on signals and output that cannot fail to encode."""

    def main(self, *args, **kwargs):
        tolerant_output()
        with stop_on_signals():
            return super().main(*args, **kwargs)


@click.group(cls=_Backprop, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="backprop")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for unexpected errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Check hand-worked backpropagation exercises and show the chain-rule trace.

    \b
    backprop check exercise.yaml      grade the answers written in the file
    backprop explain exercise.yaml    the whole forward and backward trace
    backprop solve exercise.yaml      the answer key
    backprop validate exercise.yaml   check an exercise file and prove its answer key
    backprop blank exercise.yaml      the student's copy, answers cleared
    backprop variant t.yaml --student ID   one student's own values of a template
    backprop list exercises/          a table of the exercises in a folder
    backprop schema                   the JSON Schema of exercise files, for editors
    backprop grade KEY SUBMISSIONS    grade a whole class into a gradebook
    """
    ctx.obj = Settings(debug=debug)


for command in (check, explain, solve, validate, blank, variant, catalog, schema, grade):
    main.add_command(command)
