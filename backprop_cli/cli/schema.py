"""``backprop schema``: the JSON Schema of the exercise format, for editors."""

from __future__ import annotations

import click


@click.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of exercise files.

    Save it next to your exercises and put this line at the top of each file to have
    VS Code (and any editor using yaml-language-server) check and complete it:

    \b
        # yaml-language-server: $schema=backprop-exercise.schema.json
    """
    from backprop_cli.authoring.schema import schema_text

    click.echo(schema_text(), nl=False)
