"""One self-contained HTML page: the graph (inline SVG), the forward table, the backward steps.

Nothing is fetched: style, picture and a few lines of script are in the page,
so it can be opened from disk or kept as a CI artifact.  Pointing at a box
(hover, focus or click; a click pins it) shows that node's chain-rule entry
and lights up its paths to the output.  ``check``'s page marks wrong answers
on the graph and opens on the first wrong one.
"""

from __future__ import annotations

import itertools
import json
from html import escape
from typing import TYPE_CHECKING

from backprop_cli.explain.picture import Kind, Picture
from backprop_cli.explain.trace import Trace
from backprop_cli.render.svg import CSS as GRAPH_CSS
from backprop_cli.render.svg import render_svg
from backprop_cli.grading.verdicts import Status

if TYPE_CHECKING:
    from backprop_cli.grading.results import Explanation, FileResult

PAGE_CSS = """
.backprop { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5rem;
  color: #1f2328; max-width: 80rem; }
.backprop h1 { font-size: 1.5rem; } .backprop h2 { font-size: 1.2rem; margin-top: 2rem; }
.backprop pre, .backprop code, .backprop td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.backprop pre.prompt { white-space: pre-wrap; background: #f6f8fa; padding: .8rem; border-radius: 6px; }
.backprop .scroll { overflow: auto; border: 1px solid #d0d7de; border-radius: 6px; padding: .5rem; }
.backprop .legend { color: #57606a; font-size: .9rem; }
.backprop .legend .val { color: #1a7f37; } .backprop .legend .grad { color: #cf222e; }
.backprop aside.entry { background: #f6f8fa; border: 1px solid #d0d7de;
  border-radius: 6px; padding: .6rem .8rem; margin-top: .6rem; min-height: 2.5rem; }
.backprop aside.entry pre { margin: .3rem 0 0; white-space: pre-wrap; }
.backprop table { border-collapse: collapse; margin: .5rem 0; }
.backprop th, .backprop td { border-bottom: 1px solid #d0d7de; padding: .3rem .6rem; text-align: left; vertical-align: top; }
.backprop td.mono { white-space: pre-wrap; max-width: 40rem; }
.backprop .steps pre { margin: .2rem 0 .6rem; padding: .4rem .6rem; border-left: 3px solid #d0d7de; }
.backprop .steps pre.lit, .backprop tr.lit { background: #fbefff; border-left-color: #8250df; }
.backprop tr.correct td.status { color: #1a7f37; } .backprop tr.wrong td.status { color: #cf222e; font-weight: bold; }
.backprop tr.first-wrong, .backprop section.first-wrong { background: #ffebe9; }
.backprop section.first-wrong { padding: .3rem .8rem; border-left: 4px solid #cf222e; }
.backprop .note { color: #57606a; font-style: italic; }
.backprop .score { font-size: 1.1rem; font-weight: bold; }
""".strip()

# Pointing at a box lights up its paths (its data-reach) and shows its entry in the aside.
SCRIPT = """
(function () {
  document.querySelectorAll('.report').forEach(function (report) {
    var svg = report.querySelector('svg.graph');
    var aside = report.querySelector('aside.entry');
    var data = report.querySelector('script.entries');
    if (!svg || !aside || !data) { return; }
    var entries = JSON.parse(data.textContent), pinned = null;
    function show(box) {
      report.querySelectorAll('.lit').forEach(function (e) { e.classList.remove('lit'); });
      if (!box) { svg.classList.remove('pointing'); aside.innerHTML = aside.dataset.hint; return; }
      var reach = (box.getAttribute('data-reach') || '').split(' ');
      reach.push(box.id);
      svg.classList.add('pointing');
      reach.forEach(function (id) {
        var e = svg.querySelector('[id="' + id + '"]'); if (e) { e.classList.add('lit'); }
      });
      svg.querySelectorAll('.wire').forEach(function (w) {
        if (reach.indexOf(w.dataset.from) >= 0 && reach.indexOf(w.dataset.to) >= 0) { w.classList.add('lit'); }
      });
      var entry = entries[box.id] || {title: box.dataset.node, lines: []};
      aside.innerHTML = '';
      var head = document.createElement('strong'); head.textContent = entry.title; aside.appendChild(head);
      var pre = document.createElement('pre');
      pre.textContent = entry.lines.length ? entry.lines.join('\\n') : 'no gradient flows back here';
      aside.appendChild(pre);
      var step = report.querySelector('.steps pre[data-node="' + box.dataset.node + '"]');
      if (step) { step.classList.add('lit'); }
      var row = report.querySelector('tr[data-node="' + box.dataset.node + '"]');
      if (row) { row.classList.add('lit'); }
    }
    svg.querySelectorAll('.box').forEach(function (box) {
      box.addEventListener('mouseenter', function () { show(box); });
      box.addEventListener('mouseleave', function () { show(pinned); });
      box.addEventListener('focus', function () { show(box); });
      box.addEventListener('click', function () { pinned = pinned === box ? null : box; show(pinned); });
    });
    pinned = svg.querySelector('.box.first-wrong');
    show(pinned);
    if (pinned) {  // bring the first wrong box into view inside the scrolled graph
      var frame = svg.parentNode, at = pinned.getBBox();
      frame.scrollLeft = Math.max(0, at.x + at.width / 2 - frame.clientWidth / 2);
    }
    report.dataset.ready = 'yes';
  });
})();
""".strip()


def _page(title: str, body: list[str], fragment: bool) -> str:
    """A whole document, or (``fragment``, for a notebook) a block with its own style and script."""
    style = f"<style>{PAGE_CSS}\n{GRAPH_CSS}</style>"
    script = f"<script>{SCRIPT}</script>"
    if fragment:
        return "\n".join([f'<div class="backprop">{style}', *body, script, "</div>"])
    body = ['<div class="backprop">', *body, "</div>"]
    return "\n".join(['<!DOCTYPE html>', '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width, initial-scale=1">',
                      f"<title>{escape(title)}</title>", style, "</head>", "<body>", *body, script,
                      "</body>", "</html>"]) + "\n"


def _entries_json(picture: Picture, prefix: str) -> str:
    data = {}
    for box in picture.boxes:
        title = box.node if box.kind is not Kind.OP else f"{box.node} = {box.label}"
        if box.grad is not None:
            title += f"   (gradient {box.grad.full})"
        data[prefix + box.id] = {"title": title, "lines": list(box.entry)}
    # Inside <script>, only "</" could end the element early.
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")


def graph_section(picture: Picture | None, note: str | None, prefix: str = "") -> list[str]:
    out = ['<section class="graph-section">', "<h2>The graph</h2>"]
    if picture is None:
        return out + [f'<p class="note">{escape(note or "no picture")}</p>', "</section>"]
    hint = ("Point at a box (or click it to keep it) to see its chain-rule entry and light up "
            "its paths to the output.")
    out += ['<p class="legend">Values flowing forward are in <span class="val">green</span>, '
            f'gradients of {escape(picture.of)} flowing back in <span class="grad">red</span> '
            "(marked ∂). A wire into an operation carries its own share of the gradient; a box "
            "shows the sum." + (f" The paths to {escape(picture.wrt)} are blue." if picture.wrt else "")
            + "</p>",
            '<div class="scroll">', render_svg(picture, prefix=prefix), "</div>",
            f'<aside class="entry" aria-live="polite" data-hint="{escape(hint)}">{escape(hint)}</aside>',
            f'<script type="application/json" class="entries">{_entries_json(picture, prefix)}</script>',
            "</section>"]
    return out


def trace_sections(trace: Trace, heading: str = "") -> list[str]:
    """The forward table and the backward steps, each step tagged with its node for the script."""
    out = []
    if trace.forward:
        out += [f"<h3>Forward pass{escape(heading)}</h3>", "<table>",
                "<tr><th>step</th><th>definition</th><th>shape</th><th>value</th><th>decimal</th></tr>"]
        for row in trace.forward:
            definition = row.definition if row.step is None else f"{row.definition}   (in {row.step})"
            out.append(f'<tr data-node="{escape(row.name)}"><td class="mono">{escape(row.name)}</td>'
                       f'<td class="mono">{escape(definition)}</td><td>{escape(row.shape or "")}</td>'
                       f'<td class="mono">{escape(row.value)}</td>'
                       f'<td class="mono">{escape(row.decimal or "")}</td></tr>')
        out.append("</table>")
    if trace.note:
        out.append(f"<p>{escape(trace.note)}</p>")
    if trace.backward or trace.independent:
        out += [f"<h3>Backward pass (gradients of {escape(trace.of)}){escape(heading)}</h3>",
                '<div class="steps">']
        for entry in trace.backward:
            out.append(f'<pre data-node="{escape(entry.name)}">{escape(chr(10).join(entry.lines()))}</pre>')
        out += [f"<pre>{escape(line)}</pre>" for line in trace.independent_lines()]
        out.append("</div>")
    if trace.updates:
        out += [f"<h3>Updates{escape(heading)}</h3>", '<div class="steps">']
        out += [f"<pre>{escape(chr(10).join(entry.lines()))}</pre>" for entry in trace.updates]
        out.append("</div>")
    return out


def notebook_prefix() -> str:
    """A fresh id prefix: a notebook shows many pages in one document."""
    return f"bp{next(_PAGES)}-"


_PAGES = itertools.count(1)


def explain_page(explanation: Explanation, fragment: bool = False, prefix: str = "") -> str:
    body = ['<main class="report">', f"<h1>{escape(explanation.title)}</h1>"]
    if explanation.prompt:
        body.append(f'<pre class="prompt">{escape(explanation.prompt.rstrip())}</pre>')
    body += graph_section(explanation.picture, explanation.picture_note, prefix)
    body += ['<section class="trace">', "<h2>The trace</h2>", *trace_sections(explanation.trace),
             "</section>", "</main>"]
    return _page(explanation.title, body, fragment)


def _answer(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "[" + ", ".join("[" + ", ".join(row) + "]" for row in value) + "]"
    return str(value)


def _report(result: FileResult, prefix: str) -> list[str]:
    title = result.title or result.id or result.file
    out = ['<main class="report">', f"<h1>{escape(title)}</h1>", f"<p><code>{escape(result.file)}</code></p>"]
    if result.error is not None:
        return out + [f'<pre class="error">{escape(result.error)}</pre>', "</main>"]
    out.append(f'<p class="score">Score: {result.score:g}/{result.max_score:g}</p>')
    first = result.first_wrong
    out += ["<table>", "<tr><th>item</th><th>status</th><th>your answer</th><th>expected</th>"
            "<th>points</th><th>what went wrong</th></tr>"]
    for item in result.items:
        right = item.status is Status.CORRECT
        cls = "correct" if right else "wrong" + (" first-wrong" if item.key == first else "")
        words = " ".join(w for w in (item.diagnosis and f"[{item.diagnosis}]", item.feedback, item.message) if w)
        status = item.status.value + (" (first wrong)" if item.key == first else "")
        out.append(f'<tr class="{cls}"><td class="mono">{escape(item.key)}</td>'
                   f'<td class="status">{escape(status)}</td>'
                   f'<td class="mono">{escape(_answer(item.answer))}</td>'
                   f'<td class="mono">{escape(_answer(item.expected))}</td>'
                   f"<td>{item.points:g}/{item.max_points:g}</td><td>{escape(words)}</td></tr>")
    out.append("</table>")
    if result.not_asked:
        out.append(f'<p class="note">Answered but not asked: {escape(", ".join(result.not_asked))}</p>')
    out += graph_section(result.picture, result.picture_note, prefix)
    for item in result.items:
        if item.trace is None:
            continue
        cls = ' class="first-wrong"' if item.key == first else ""
        label = "the first wrong item: " if item.key == first else ""
        out += [f"<section{cls}>", f"<h2>How to get {escape(item.key)} ({label}{item.status.value})</h2>",
                *trace_sections(item.trace), "</section>"]
    out.append("</main>")
    return out


def check_page(results: list[FileResult], fragment: bool = False, prefix: str = "") -> str:
    """The student's report: each file's items, its graph with wrong items marked, the way to them."""
    body = []
    if len(results) > 1:
        score, top = sum(r.score for r in results), sum(r.max_score for r in results)
        body.append(f'<p class="score">Total: {score:g}/{top:g} over {len(results)} files</p>')
    for n, result in enumerate(results):
        body += _report(result, prefix + (f"r{n}-" if len(results) > 1 else ""))
    title = "backprop report" if len(results) != 1 else f"backprop: {results[0].title or results[0].file}"
    return _page(title, body, fragment)
