"""``backprop explain``: the whole chain-rule trace of an exercise or a one-line expression."""

from __future__ import annotations

import json
import re

import click

from backprop_cli.cli.common import color_option, friendly_errors

FORMATS = ["text", "markdown", "json"]
_ASSIGN = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)(.*)", re.S)


def _pairs(values: tuple[str, ...], option: str) -> list[tuple[str, str]]:
    pairs = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise click.BadParameter(f"'{item}' should look like name=value, e.g. x=2", param_hint=option)
        pairs.append((name.strip(), value.strip()))
    return pairs


def expression_exercise(text: str, given: list[tuple[str, str]], upstream: list[tuple[str, str]]) -> str:
    """A one-step exercise file for --expr.  Every user string is JSON-quoted,
    which is a valid YAML double-quoted scalar, so no text can change the structure."""
    name, body = "f", text
    if m := _ASSIGN.fullmatch(text):
        name, body = m[1], m[2]
    lines = ["backprop: 1", "id: expr", f"title: {json.dumps(text.strip())}", "given:"]
    lines += [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in given] or ["  {}"]
    if not given:
        lines[-2:] = ["given: {}"]
    lines += ["steps:", f"  {json.dumps(name)}: {json.dumps(body.strip())}"]
    if upstream:
        lines += ["upstream:"] + [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in upstream]
    return "\n".join(lines) + "\n"


@click.command()
@click.argument("file", required=False, type=click.Path())
@click.option("--expr", "expression", help="Explain this expression instead of a file, e.g. 'f = x*w'.")
@click.option("--given", "given", multiple=True, metavar="NAME=VALUE", help="A given value for --expr.")
@click.option("--upstream", "upstream", multiple=True, metavar="LOSS=VALUE",
              help="An outside loss's gradient with respect to the output, e.g. L=5.")
@click.option("--of", "of", metavar="NAME", help="Differentiate this step (default: the outside loss, else the output).")
@click.option("--wrt", metavar="NAME", help="Show only the part of the backward pass that leads to NAME.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@color_option
@friendly_errors
def explain(file, expression, given, upstream, of, wrt, fmt, color) -> None:
    """Print the forward pass and the backward pass, step by step, for FILE (or --expr)."""
    from backprop_cli.errors import BackpropError
    from backprop_cli.exercise import load_exercise, load_exercise_text
    from backprop_cli.solver import Solution
    from backprop_cli.trace import make_trace

    if (file is None) == (expression is None):
        raise click.UsageError("give an exercise FILE or --expr, not both or neither")
    if file is not None and (given or upstream):
        raise click.UsageError("--given and --upstream go with --expr; a file has its own")
    if expression is not None:
        text = expression_exercise(expression, _pairs(given, "--given"), _pairs(upstream, "--upstream"))
        exercise = load_exercise_text(text, "--expr")
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
    trace = make_trace(solution.backward(of), wrt_node)
    heading = exercise.title or exercise.id
    if fmt == "json":
        from backprop_cli.render.jsonout import dumps, trace_document

        click.echo(dumps({**trace_document(trace), "id": exercise.id, "title": exercise.title}))
    elif fmt == "markdown":
        from backprop_cli.render.markdown import trace_markdown

        click.echo(trace_markdown(trace, heading))
    else:
        from backprop_cli.render.console import make_console
        from backprop_cli.render.terminal import trace_group

        make_console(color).print(trace_group(trace, heading))
