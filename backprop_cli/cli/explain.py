"""``backprop explain``: the whole chain-rule trace of an exercise or a one-line expression."""

from __future__ import annotations

import click

from backprop_cli.cli.common import color_option, friendly_errors

FORMATS = ["text", "markdown", "json", "latex", "html", "dot", "svg", "png", "mermaid"]
TRACE_FORMATS = ("text", "markdown", "json")  # the formats --entry goes with


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
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="latex: align* blocks; html: one self-contained page; dot, svg, png, mermaid: "
                   "the graph with values and gradients (svg and png need Graphviz).")
@click.option("--standalone", is_flag=True, help="With --format latex: a whole document for pdflatex.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output (any format but text).")
@color_option
@friendly_errors
def explain(file, expression, given, upstream, of, wrt, entry, fmt, standalone, output, color) -> None:
    """Print the forward pass and the backward pass, step by step, for FILE (or --expr).

    \b
    The graph itself, drawn with forward values and gradients:
      backprop explain ex.yaml --format html -o ex.html   a page to open in a browser
      backprop explain ex.yaml --format png -o ex.png     (Graphviz's dot program)
      backprop explain ex.yaml --format mermaid           for GitHub Markdown
    """
    from backprop_cli.grading import pipeline

    if (file is None) == (expression is None):
        raise click.UsageError("give an exercise FILE or --expr, not both or neither")
    if file is not None and (given or upstream):
        raise click.UsageError("--given and --upstream go with --expr; a file has its own")
    if entry is not None and wrt is None:
        raise click.UsageError("--entry goes with --wrt NAME")
    if entry is not None and fmt not in TRACE_FORMATS:
        raise click.UsageError("--entry goes with --format text, markdown or json")
    if standalone and fmt != "latex":
        raise click.UsageError("--standalone goes with --format latex")
    if output is not None and fmt == "text":
        raise click.UsageError("--output goes with the other formats; redirect text output instead")
    if expression is not None:
        exercise = pipeline.load_expression(expression, _pairs(given, "--given"),
                                            _pairs(upstream, "--upstream"))
    else:
        exercise = pipeline.load(file)
    if fmt not in TRACE_FORMATS:
        _emit(_drawn(exercise, fmt, of, wrt, standalone), output)
        return
    trace = pipeline.explain(exercise, of, wrt, entry)
    heading = exercise.title or exercise.id
    if fmt == "json":
        from backprop_cli.render.jsonout import dumps, trace_document

        _emit(dumps({**trace_document(trace), "id": exercise.id, "title": exercise.title}) + "\n", output)
    elif fmt == "markdown":
        from backprop_cli.render.markdown import trace_markdown
        from backprop_cli.render.mermaid import render_mermaid

        drawn = pipeline.drawing(exercise, of, wrt)[0] if entry is None else None
        graph = render_mermaid(drawn) if drawn is not None else None
        _emit(trace_markdown(trace, heading, exercise.prompt, graph) + "\n", output)
    else:
        from backprop_cli.render.console import make_console
        from backprop_cli.render.terminal import trace_group

        make_console(color).print(trace_group(trace, heading))


def _drawn(exercise, fmt: str, of: str | None, wrt: str | None, standalone: bool) -> str | bytes:
    """The LaTeX derivation, the HTML page, or the graph in one of the picture formats."""
    from backprop_cli.grading import pipeline

    if fmt == "html":
        from backprop_cli.render.html import explain_page

        return explain_page(pipeline.explanation(exercise, of, wrt))
    if fmt == "latex":
        from backprop_cli.explain.tex import derivation
        from backprop_cli.render.latex import render_latex

        run, wrt_node = pipeline.backward_pass(exercise, of, wrt)
        return render_latex(derivation(run, exercise.title or exercise.id, wrt_node), standalone)
    picture = pipeline.picture(exercise, of, wrt)
    if fmt == "mermaid":
        from backprop_cli.render.mermaid import render_mermaid

        return render_mermaid(picture)
    from backprop_cli.render.dot import GraphvizMissing, render_dot, run_dot
    from backprop_cli.source.errors import BackpropError

    text = render_dot(picture)
    if fmt == "dot":
        return text
    try:
        return run_dot(text, fmt)
    except GraphvizMissing as missing:
        if fmt == "png":
            raise BackpropError(str(missing)) from None
    from backprop_cli.render.svg import render_svg

    click.echo("backprop: Graphviz's 'dot' program is not installed (Debian/Ubuntu package "
               "'graphviz'); the SVG is drawn by backprop's own layout instead", err=True)
    return render_svg(picture, standalone=True)


def _emit(content: str | bytes, output: str | None) -> None:
    """Write to ``output``, or to standard output; binary output never goes to a terminal."""
    import sys

    if output is not None:
        with open(output, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
        return
    if isinstance(content, bytes):
        if sys.stdout.isatty():
            raise click.UsageError("PNG is binary: give --output FILE or redirect standard output")
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return
    click.echo(content, nl=False)
