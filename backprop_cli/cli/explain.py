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
    from backprop_cli.errors import BackpropError
    from backprop_cli.exercise import load_exercise, load_expression
    from backprop_cli.solver import Solution
    from backprop_cli.trace import make_trace

    if (file is None) == (expression is None):
        raise click.UsageError("give an exercise FILE or --expr, not both or neither")
    if file is not None and (given or upstream):
        raise click.UsageError("--given and --upstream go with --expr; a file has its own")
    if expression is not None:
        exercise = load_expression(expression, _pairs(given, "--given"), _pairs(upstream, "--upstream"))
    else:
        exercise = load_exercise(file)
    solution = Solution(exercise)
    of = of or solution.loss_name
    if of not in exercise.graph.by_name and not (exercise.upstream and of == exercise.upstream.name):
        raise BackpropError(f"--of {of}: there is no step or outside loss called '{of}'")
    wrt_node = None
    if wrt is not None:
        wrt_node = exercise.graph.by_name.get(wrt)
        if wrt_node is None:
            raise BackpropError(f"--wrt {wrt}: there is no given or step called '{wrt}'")
    if entry is not None and wrt_node is None:
        raise click.UsageError("--entry goes with --wrt NAME")
    run = solution.backward(of)
    if entry is not None:
        from backprop_cli.entries import entry_trace, parse_entry

        trace = entry_trace(run, wrt_node, parse_entry(entry, exercise.values[wrt_node], wrt))
    else:
        trace = make_trace(run, wrt_node)
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
