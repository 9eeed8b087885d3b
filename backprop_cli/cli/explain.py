"""``backprop explain``: the whole chain-rule trace of an exercise or a one-line expression."""

from __future__ import annotations

import click

from backprop_cli.cli.common import color_option, friendly_errors

FORMATS = ["text", "markdown", "json"]


def _pairs(values: tuple[str, ...], option: str) -> list[str]:
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"'{item}' should look like name=value, e.g. x=2", param_hint=option)
    return list(values)


@click.command()
@click.argument("file", required=False, type=click.Path())
@click.option("--expr", "expression", help="Explain this expression instead of a file, e.g. 'f = x*w'.")
@click.option("--given", "given", multiple=True, metavar="NAME=VALUE", help="A given value for --expr.")
@click.option("--upstream", "upstream", multiple=True, metavar="LOSS=VALUE",
              help="An outside loss's gradient with respect to the output, e.g. L=5.")
@click.option("--of", "of", metavar="NAME", help="Differentiate this step (default: the outside loss, else the output).")
@click.option("--wrt", metavar="NAME", help="Show only the part of the backward pass that leads to NAME.")
@click.option("--entry", metavar="ROW,COL",
              help="With --wrt TENSOR: spell out the scalar chain rule for one entry (counted from 1).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@color_option
@friendly_errors
def explain(file, expression, given, upstream, of, wrt, entry, fmt, color) -> None:
    """Print the forward pass and the backward pass, step by step, for FILE (or --expr)."""
    from backprop_cli.grading import pipeline

    if (file is None) == (expression is None):
        raise click.UsageError("give an exercise FILE or --expr, not both or neither")
    if file is not None and (given or upstream):
        raise click.UsageError("--given and --upstream go with --expr; a file has its own")
    if entry is not None and wrt is None:
        raise click.UsageError("--entry goes with --wrt NAME")
    if expression is not None:
        exercise = pipeline.load_expression(expression, _pairs(given, "--given"),
                                            _pairs(upstream, "--upstream"))
    else:
        exercise = pipeline.load(file)
    trace = pipeline.explain(exercise, of, wrt, entry)
    heading = exercise.title or exercise.id
    if fmt == "json":
        from backprop_cli.render.jsonout import dumps, trace_document

        click.echo(dumps({**trace_document(trace), "id": exercise.id, "title": exercise.title}))
    elif fmt == "markdown":
        from backprop_cli.render.markdown import trace_markdown

        click.echo(trace_markdown(trace, heading, exercise.prompt))
    else:
        from backprop_cli.render.console import make_console
        from backprop_cli.render.terminal import trace_group

        make_console(color).print(trace_group(trace, heading))
