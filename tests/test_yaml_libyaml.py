"""libyaml and the pure-Python YAML parser give the same nodes, positions and messages.

``load_text`` reads ordinary files with libyaml's C event parser (when PyYAML
has it) and hands everything else to the pure-Python parser; these tests read
every data file, the cases where the two parsers are known to disagree, and
generated YAML both ways and compare the results exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.source import yamlsrc
from backprop_cli.source.errors import BackpropError
from backprop_cli.source.limits import Limits
from backprop_cli.source.yamlsrc import YMapping, YScalar, load_text

pytestmark = pytest.mark.skipif(yamlsrc._CParser is None, reason="PyYAML was built without libyaml")

ROOT = Path(__file__).resolve().parent.parent
DATA = sorted([*ROOT.glob("tests/data/broken/*.yaml"), *ROOT.glob("tests/data/hostile/*.yaml"),
               *ROOT.glob("tests/data/filled/*.yaml"), *ROOT.glob("exercises/*.yaml")])


def tree(node) -> tuple:
    """Everything a node holds: kind, position, text, style and source span, recursively."""
    if isinstance(node, YScalar):
        return ("scalar", node.location, node.text, node.style, node.start_index, node.end_index)
    if isinstance(node, YMapping):
        return ("mapping", node.location, [(tree(k), tree(v)) for k, v in node.items])
    return ("sequence", node.location, [tree(item) for item in node.items])


def outcome(data, libyaml: bool, limits: Limits | None = None):
    try:
        return tree(load_text(data, "f.yaml", limits or Limits(), libyaml=libyaml))
    except BackpropError as err:
        return ("error", [problem.render() for problem in err.problems])


def assert_same(data, limits: Limits | None = None):
    fast, pure = outcome(data, True, limits), outcome(data, False, limits)
    assert fast == pure, repr(data)[:300]
    return fast


@pytest.fixture
def parsers_used(monkeypatch):
    """Which parser built each tree that was returned: 'libyaml' or 'python'."""
    used = []
    build = yamlsrc._TreeBuilder.build

    def spy(self, parser=yamlsrc.yaml.SafeLoader):
        node = build(self, parser)
        used.append("libyaml" if parser is yamlsrc._CParser else "python")
        return node

    monkeypatch.setattr(yamlsrc._TreeBuilder, "build", spy)
    return used


@pytest.mark.parametrize("path", DATA, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_data_file_reads_the_same(path):
    assert_same(path.read_bytes())


def test_ordinary_files_are_read_by_libyaml(parsers_used):
    files = sorted(ROOT.glob("exercises/*.yaml")) + sorted(ROOT.glob("tests/data/filled/*.yaml"))
    for path in files:
        load_text(path.read_bytes(), path.name)
    assert parsers_used == ["libyaml"] * len(files)


@pytest.mark.parametrize("text", [
    "a:\tb\n",  # a tab: libyaml accepts it in places the pure-Python parser does not
    "x: |#comment\n  t\n",  # a block scalar header with a comment glued on
    "w: [a?b, 2]\n",  # '?' inside a plain value in brackets
    "w: {k?: 1}\n",
    "w: [b: ]\n",  # an empty value in brackets: the parsers place it differently
    "w: [1, 2]\nv: [3, {k: }]\n",
    "a: 1\nsteps:",  # an empty value at the very end, no line break
    "a: 1\n\ufeffb: 2\n",  # a byte order mark past the start
    "%YAML 1.1\n---\na: 1\n",  # a directive
    "%TAG ! tag:x,2000:\n--- !x\na: 1\n",
    "a: !t [1]\n", "a: &x 1\nb: *x\n", "a: 1\na: 2\n", "a: 1\n---\nb: 2\n", "[a]: 1\n",
    "a: [1, 2\nb: 3\n", "a: 'unclosed\n", "- a\nb: 1\n", "a:\r\n  - 1\r\n  - 2\r\n",
    "a: \u2028b\x85c\n", "é: 'ü''x'\n\"\\u00e9\": \"a\\\n  b\"\n",
])
def test_where_the_parsers_differ_the_result_is_the_pure_python_one(text):
    assert_same(text)


def test_the_depth_limit_holds_on_both_paths():
    limits = Limits(max_yaml_depth=3)
    deep_block = "a:\n  b:\n    c:\n      d: 1\n"
    deep_flow = "a: [[[[1]]]]\n"
    for text in (deep_block, deep_flow):
        result = assert_same(text, limits)
        assert result[0] == "error" and "nested too deeply" in result[1][0]


# ------------------------------------------------------------- generated YAML

WORDS = ["x", "w", "2*x", "x * w", "-1", "1/2", "0.5", "sigmoid(z)", "dloss/dw", "a b", "é", "",
         "null", "~", "yes", "010", "1e-3", "W @ x", "a,b", "# c", "x: y", "'q'", "[1]"]
NOISE = ["\t", " ", "#", "\n", ":", "- ", "[", "]", "'", '"', "\r\n", "&a", "*a", "!t", "%", "\x85",
         "\ufeff", "|#", "?", "{", "}", ",", "a:b", "? ", "...", "---", "\n  ", "|", ">", "\\", "@"]


def scalar(word: str, style: int) -> str:
    if style == 0 and word and word[0] not in "'[#" and ": " not in word and "," not in word:
        return word
    if style == 1:
        return "'" + word.replace("'", "''") + "'"
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


scalars = st.builds(scalar, st.sampled_from(WORDS), st.integers(0, 2))
flow = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(inner, max_size=3).map(lambda items: "{" + ", ".join(f"k{i}: {v}" for i, v in enumerate(items)) + "}"),
), max_leaves=6)


def _block(entries, indent=""):
    lines = []
    for i, (kind, value) in enumerate(entries):
        key = f"k{i}"
        if kind == "flow":
            lines.append(f"{indent}{key}: {value}")
        elif kind == "empty":
            lines.append(f"{indent}{key}:")
        elif kind == "literal":
            lines.append(f"{indent}{key}: |{value}\n{indent}  line one\n{indent}  line two")
        else:
            lines.append(f"{indent}{key}:\n{indent}  - {value}\n{indent}  - x")
    return "\n".join(lines)


entry = st.one_of(st.tuples(st.just("flow"), flow), st.tuples(st.just("empty"), st.just("")),
                  st.tuples(st.just("literal"), st.sampled_from(["", "-", "+", "2"])),
                  st.tuples(st.just("list"), flow))
documents = st.builds(_block, st.lists(entry, min_size=1, max_size=6))


@st.composite
def perturbed(draw):
    text = draw(documents) + draw(st.sampled_from(["\n", "", "\r\n"]))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(NOISE)) + text[at:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perturbed())
def test_generated_yaml_reads_the_same(text):
    assert_same(text)


# ------------------------------------------------------------- one value of a known file

KNOWN = (ROOT / "exercises" / "linear-model.yaml").read_text(encoding="utf-8").rstrip("\n") + "\n"
AFTER = ["", "tolerance: {rel: 1/100}\n", "# the end\n\n", "points: {dloss/dw: 2}\n  # indented comment\n"]
ANSWER_LINES = ["  y_hat: 1\n", "  r: -1\n", "  loss: '1'\n", '  dloss/dw: "-2"\n', "  dloss/dr: [1, 2]\n",
                "  dr/dy_hat:\n", "  dy_hat/dw: |\n    1\n", "  w: {a: 1}\n", "  x: [[1, 2], [3, 4]]\n",
                "  # a comment\n", "\n", "  z: 1 # c\n"]


def _values(node) -> int:
    if isinstance(node, YMapping):
        return 1 + sum(_values(k) + _values(v) for k, v in node.items)
    if isinstance(node, yamlsrc.YSequence):
        return 1 + sum(_values(i) for i in node.items)
    return 1


@st.composite
def answered(draw):
    block = "".join(draw(st.lists(st.sampled_from(ANSWER_LINES), min_size=1, max_size=6)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(block)))
        block = block[:at] + draw(st.sampled_from(NOISE)) + block[at:]
    return KNOWN + "answers:" + draw(st.sampled_from(["\n", " # mine\n"])) + block, draw(st.sampled_from(AFTER))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answered())
def test_one_value_read_alone_is_the_node_the_whole_file_gives(parts):
    """A copy's answers, read alone, are what reading the whole file gives; or not read alone
    (None), when the whole file is broken or anything is unusual."""
    head, after = parts
    text = head + after
    known = yamlsrc.load_text(KNOWN + "answers:\n  y_hat: 1\n" + after, "f.yaml")
    outside = _values(known) - _values(known.get("answers"))
    span = yamlsrc.top_level_span(text, "answers")
    if span is None or text[:span[0]] != KNOWN or text[span[1]:] != after:
        return  # only for a file whose text outside the answers is the known file's
    source = yamlsrc.Source("f.yaml", text)
    alone = yamlsrc.read_top_value(source, Limits(), "answers", span, outside)
    whole = outcome(text, False)
    if alone is None:
        return
    assert whole[0] == "mapping", (text, whole)
    expected = next(v for k, v in yamlsrc.load_text(text, "f.yaml").items if k.text == "answers")
    assert tree(alone) == tree(expected)


def test_the_answers_of_known_files_are_mostly_read_alone():
    source = yamlsrc.Source("f.yaml", KNOWN + "answers:\n  y_hat: 1\n  r: [1, 2]\n")
    known = yamlsrc.parse(source)
    outside = _values(known) - _values(known.get("answers"))
    span = yamlsrc.top_level_span(source.text, "answers")
    assert span == (len(KNOWN), len(source.text))
    alone = yamlsrc.read_top_value(source, Limits(), "answers", span, outside)
    assert tree(alone) == tree(known.get("answers"))
    too_many = yamlsrc.read_top_value(source, Limits(max_yaml_values=outside + 3), "answers", span, outside)
    assert too_many is None  # past the limit of values: the whole file is read, and refused


_LOOKED_FOR = ["\t", "\ufeff", "%", "\n", "\r", "|", ">", "#", "-", "+", "0", "7", " ", "a", ":"]


@pytest.mark.parametrize("text", ["", "a: 1\n", "%YAML 1.2\n", "a: 1\n%x", "a: |#c\n", "a: >-2#c\n",
                                  "a: |2 #c\n", "a: x#y\n", "#|\n", "|" + "-" * 5000 + "#",
                                  "x" + "#" * 300, "x" + "#" * 300 + "|#", "a:\r%b", "\ufeffa: 1"])
def test_not_for_libyaml_finds_what_the_regular_expression_finds(text):
    assert yamlsrc.not_for_libyaml(text) == (yamlsrc._NOT_FOR_LIBYAML.search(text) is not None)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_LOOKED_FOR), max_size=40).map("".join))
def test_not_for_libyaml_agrees_with_the_regular_expression_on_any_text(text):
    assert yamlsrc.not_for_libyaml(text) == (yamlsrc._NOT_FOR_LIBYAML.search(text) is not None)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "a", " ", "é"]),
                max_size=30).map("".join))
def test_line_starts_are_where_the_breaks_pyyaml_counts_end(text):
    from backprop_cli.source.ynodes import _BREAK, line_starts

    assert line_starts(text) == [0] + [m.end() for m in _BREAK.finditer(text)]
