"""The HTML pages parsed with the standard library: self-contained, well formed, wrong items marked."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from cli_runner import invoke
from html_pages import MLP, ROOT, one_wrong_answers

VOID = {"meta", "br", "img", "input", "link", "hr", "col", "wbr", "source", "area", "base", "embed",
        "param", "track"}
SVG_EMPTY_OK = {"path", "rect", "circle", "line", "polyline", "polygon", "ellipse", "stop", "use"}
URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "data", "poster", "srcset", "background"}


class Page(HTMLParser):
    """Elements with their attributes, a check that tags nest, and every script's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []  # (tag, attrs, open parents)
        self.scripts: list[tuple[dict, str]] = []
        self.texts: list[str] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attrs, list(self.stack)))
        if tag == "script":
            self._script = attrs
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        assert tag in VOID or tag in SVG_EMPTY_OK, f"<{tag}/> cannot be empty in HTML"
        self.elements.append((tag, {k: v or "" for k, v in attrs}, list(self.stack)))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        if self._script is not None and self.stack and self.stack[-1] == "script":
            self.scripts.append((self._script, data))
        else:
            self.texts.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a, _ in self.elements if t == tag and all(
            (a.get(k.replace("_", "-")) or "") == v if k != "cls" else v in a.get("class", "").split()
            for k, v in attrs.items())]


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    assert page.stack == [], f"unclosed: {page.stack}"
    return page


def assert_self_contained(text: str, page: Page) -> None:
    for tag, attrs, _ in page.elements:
        assert tag not in ("link", "img", "iframe", "object", "embed", "base"), f"<{tag}> may fetch"
        for name, value in attrs.items():
            if name in URL_ATTRS:
                assert value.startswith("#"), f"<{tag} {name}={value!r}> points outside the page"
            assert not re.search(r"(https?:|//|data:|javascript:)", value if name != "d" else ""), (tag, name)
    for attrs, _ in page.scripts:
        assert "src" not in attrs
    for url in re.findall(r"url\(([^)]*)\)", text):
        assert url.startswith("#"), f"url({url}) points outside the page"
    assert not re.search(r"https?://|@import|fetch\(|XMLHttpRequest|\bimport\(", text)


@pytest.mark.parametrize("name", ["linear-model", "mlp-2-3-3-1", "conv-stride2", "softmax-classifier"])
def test_explain_page(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("explain", f"exercises/{name}.yaml", "--format", "html")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("<!DOCTYPE html>")
    page = parse(text)
    assert_self_contained(text, page)
    ids = [a["id"] for _, a, _ in page.elements if "id" in a]
    assert len(ids) == len(set(ids)), "ids repeat"
    assert len(page.find("svg", cls="graph")) == 1
    boxes = page.find("g", cls="box")
    assert boxes and all(a["data-reach"].split() for a in boxes if "given" in a["class"])
    entries = json.loads(next(body for attrs, body in page.scripts if attrs.get("class") == "entries"))
    assert set(entries) == {a["id"] for a in boxes}
    steps = [a["data-node"] for a in page.find("pre") if "data-node" in a]
    assert steps, "no backward steps"
    for box in boxes:  # every reached node's chain-rule entry is in the page, for the script to show
        if box["data-node"] in steps:
            assert entries[box["id"]]["lines"], box
    assert page.find("tr", data_node=steps[0])  # the forward table is tagged too
    for wire in page.find("g", cls="wire"):
        assert wire["data-from"] in entries and wire["data-to"] in entries


def test_check_page_marks_the_wrong_item(tmp_path):
    answers = one_wrong_answers(tmp_path)
    # A generous time limit: on a loaded machine, drawing is the part that would be left out.
    result = invoke("check", MLP, "--answers", answers, "--format", "html", "--time-limit", 120)
    assert result.exit_code == 1, result.output
    page = parse(result.stdout)
    assert_self_contained(result.stdout, page)
    wrong = page.find("g", cls="wrong")
    assert [a["data-node"] for a in wrong] == ["W2"]
    assert "first-wrong" in wrong[0]["class"].split()
    rows = page.find("tr", cls="wrong")
    assert len(rows) == 1 and "first-wrong" in rows[0]["class"]
    assert page.find("section", cls="first-wrong")
    assert "How to get dloss/dW2 (the first wrong item: incorrect)" in "".join(page.texts)
    # The right items are marked on their boxes too (their tooltips say so), but not as wrong.
    titles = "".join(page.texts)
    assert "dloss/dW3: right" in titles and "dloss/dW2: wrong" in titles


def test_check_page_for_several_files_keeps_ids_apart(tmp_path):
    result = invoke("check", ROOT / "exercises/linear-model.yaml", ROOT / "exercises/fan-out.yaml",
                    "--format", "html", "--time-limit", 120)
    page = parse(result.stdout)
    ids = [a["id"] for _, a, _ in page.elements if "id" in a]
    assert len(ids) == len(set(ids))
    assert len(page.find("svg", cls="graph")) == 2
    assert "Total:" in "".join(page.texts)


def test_hidden_expected_values_stay_hidden(tmp_path):
    path = tmp_path / "hidden.yaml"
    path.write_text((ROOT / "exercises/linear-model.yaml").read_text()
                    + "hide_expected: true\nanswers:\n  y_hat: 1\n  r: -1\n  loss: 1\n  dloss/dr: -2\n"
                    "  dr/dy_hat: 1\n  dy_hat/dw: 1\n  dloss/dy_hat: -2\n  dloss/dw: -8\n")
    result = invoke("check", path, "--format", "html", "--time-limit", 120)
    assert result.exit_code == 1, result.output
    page = parse(result.stdout)
    svg = result.stdout[result.stdout.index("<svg"):result.stdout.index("</svg>")]
    written = " ".join(re.findall(r">([^<]+)<", svg))
    assert "∂" not in written and "-2" not in written  # no gradient, no expected value
    entries = json.loads(next(body for attrs, body in page.scripts if attrs.get("class") == "entries"))
    assert all(not e["lines"] for e in entries.values())
    assert [a["data-node"] for a in page.find("g", cls="wrong")] == ["w"]


def test_a_file_that_cannot_be_used_is_reported_on_the_page(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("backprop: 1\ngiven: {x: 1}\nsteps:\n  f: x +\n")
    result = invoke("check", path, "--format", "html")
    assert result.exit_code == 2
    page = parse(result.stdout)
    assert page.find("pre", cls="error") and not page.find("svg")


def test_a_title_cannot_inject_markup(tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text('backprop: 1\ntitle: "</title><script>alert(1)</script> & <b>"\n'
                    "given:\n  x: 2\nsteps:\n  f: x*x\nask: [df/dx]\nanswers:\n  df/dx: 3\n")
    for args in (["explain", path, "--format", "html"],
                 ["check", path, "--format", "html", "--time-limit", 120]):
        text = invoke(*args).stdout
        page = parse(text)
        assert all(not body.strip().startswith("alert") for _, body in page.scripts)
        assert "&lt;/title&gt;&lt;script&gt;" in text


def test_a_picture_that_took_too_long_is_left_out_with_a_note():
    from backprop_cli.grading.budget import Phase
    from backprop_cli.grading.results import PICTURE, summarize
    from backprop_cli.grading.verdicts import grade_file
    from backprop_cli.render.html import check_page

    report = grade_file(str(ROOT / "exercises/linear-model.yaml"), None, None)
    result = summarize(report, skip={(Phase.TRACE, PICTURE): "took too long"}, picture=True)
    assert result.picture is None and result.picture_note == "drawing the graph took too long"
    page = parse(check_page([result]))
    assert not page.find("svg") and "drawing the graph took too long" in "".join(page.texts)
