"""Tests for backprop_cli.source.yamlsrc: raw scalars, exact positions, and every refusal."""

from __future__ import annotations

import time

import pytest

from backprop_cli.source.errors import BackpropError, Location, Problem
from backprop_cli.source.limits import DEFAULT, Limits
from backprop_cli.source.yamlsrc import (
    Source,
    YMapping,
    YScalar,
    YSequence,
    load_file,
    load_text,
    node_problem,
)

NAME = "ex.yaml"


def load(text, limits=DEFAULT):
    return load_text(text, NAME, limits)


def problems_of(text, limits=DEFAULT) -> list[Problem]:
    with pytest.raises(BackpropError) as info:
        load(text, limits)
    problems = info.value.problems
    for p in problems:
        assert p.message and "Traceback" not in p.render()
    return problems


def error_at(text, line, col, *fragments, limits=DEFAULT) -> Problem:
    """The first problem of loading ``text``: assert its position and message fragments."""
    problem = problems_of(text, limits)[0]
    assert problem.location == Location(NAME, line, col), problem.render()
    for fragment in fragments:
        assert fragment in problem.message, problem.message
    assert problem.render().startswith(f"{NAME}:{line}:{col}: ")
    return problem


# --- raw scalars -------------------------------------------------------------


def test_scalars_keep_raw_text_without_yaml_typing():
    root = load('x: 0.5\na: no\nb: 010\nc: 1e3\nd: "3/2"\ne: yes\nf: 0x1F\ng: 1_000\nh: .inf\n')
    assert isinstance(root, YMapping)
    expected = {"x": "0.5", "a": "no", "b": "010", "c": "1e3", "d": "3/2", "e": "yes",
                "f": "0x1F", "g": "1_000", "h": ".inf"}
    for key, text in expected.items():
        node = root.get(key)
        assert isinstance(node, YScalar) and node.text == text
    assert root.get("d").style == "double"
    assert root.get("x").style == "plain"


def test_quoted_and_block_scalar_styles():
    root = load("s: 'it''s'\nd: \"a\\tb\"\nl: |\n  line one\n  line two\nf: >\n  folded\n  text\n")
    assert (root.get("s").text, root.get("s").style) == ("it's", "single")
    assert (root.get("d").text, root.get("d").style) == ("a\tb", "double")
    assert (root.get("l").text, root.get("l").style) == ("line one\nline two\n", "literal")
    assert (root.get("f").text, root.get("f").style) == ("folded text\n", "folded")


def test_null_detection():
    root = load("a:\nb: ~\nc: null\nd: NULL\ne: ''\nf: \"null\"\ng: none\nh: 0\n")
    nulls = {key: root.get(key).is_null for key in root.keys()}
    assert nulls == {"a": True, "b": True, "c": True, "d": True,
                     "e": False, "f": False, "g": False, "h": False}


def test_nested_mappings_and_sequences():
    root = load("net:\n  layers:\n    - name: h\n      size: 3\n    - [1, 2, {k: v}]\n")
    layers = root.get("net").get("layers")
    assert isinstance(layers, YSequence) and len(layers.items) == 2
    first = layers.items[0]
    assert isinstance(first, YMapping) and first.keys() == ["name", "size"]
    flow = layers.items[1]
    assert [n.text for n in flow.items[:2]] == ["1", "2"]
    assert flow.items[2].get("k").text == "v"


def test_mapping_accessors_keep_file_order():
    root = load("b: 1\na: 2\nc: 3\n")
    assert root.keys() == ["b", "a", "c"]
    assert root.key_node("a").location == Location(NAME, 2, 1)
    assert root.get("missing") is None and root.key_node("missing") is None


def test_bom_is_stripped_and_bytes_accepted():
    root = load("\ufeffa: 1\n".encode("utf-8"))
    assert root.keys() == ["a"]
    assert root.key_node("a").location == Location(NAME, 1, 1)


# --- locations ---------------------------------------------------------------


def test_key_and_value_locations():
    root = load("top:\n  loss: sigma(z)**2\n  rate: '0.1'\nlist:\n  - x\n  - y\n")
    inner = root.get("top")
    assert root.key_node("top").location == Location(NAME, 1, 1)
    assert inner.location == Location(NAME, 2, 3)
    assert inner.key_node("loss").location == Location(NAME, 2, 3)
    assert inner.get("loss").location == Location(NAME, 2, 9)
    assert inner.get("rate").location == Location(NAME, 3, 9)  # the opening quote
    assert [n.location for n in root.get("list").items] == [Location(NAME, 5, 5), Location(NAME, 6, 5)]


def test_location_at_plain_scalar():
    loss = load("top:\n  loss: sigma(z)**2\n").get("top").get("loss")
    assert loss.location_at(0) == Location(NAME, 2, 9)
    assert loss.location_at(6) == Location(NAME, 2, 15)  # the "z"
    assert loss.location_at(11) == Location(NAME, 2, 20)  # one past the end


def test_location_at_quoted_scalars():
    root = load("d: \"a + b\"\ns: 'it''s x'\ne: \"\\t y\"\n")
    assert root.get("d").location_at(0) == Location(NAME, 1, 5)
    assert root.get("d").location_at(4) == Location(NAME, 1, 9)
    s = root.get("s")  # text "it's x": '' counts as two source characters
    assert s.location_at(1) == Location(NAME, 2, 6)
    assert s.location_at(2) == Location(NAME, 2, 7)
    assert s.location_at(3) == Location(NAME, 2, 9)
    assert s.location_at(5) == Location(NAME, 2, 11)
    assert root.get("e").location_at(2) == Location(NAME, 3, 8)  # after the \t escape


def test_location_at_block_and_multiline_scalars():
    root = load("l: |\n  first\n    second\nf: >\n  one\n  two\np: alpha\n  beta\n")
    lit = root.get("l")
    assert lit.location_at(0) == Location(NAME, 2, 3)
    assert lit.location_at(lit.text.index("second")) == Location(NAME, 3, 5)
    folded = root.get("f")
    assert folded.location_at(folded.text.index("two")) == Location(NAME, 6, 3)
    plain = root.get("p")
    assert plain.text == "alpha beta"
    assert plain.location_at(6) == Location(NAME, 8, 3)


def test_location_at_crlf_source():
    root = load("a: 1\r\nb: x + y\r\n")
    assert root.get("b").location_at(4) == Location(NAME, 2, 8)


def test_scalar_problem_and_node_problem_carry_snippets():
    root = load("top:\n  loss: sigma(z)**2\n")
    loss = root.get("top").get("loss")
    p = loss.problem("unknown name 'z'", offset=6, length=1, hint="declare it")
    assert p.location == Location(NAME, 2, 15)
    assert p.snippet == "  loss: sigma(z)**2"
    assert (p.span, p.hint) == (1, "declare it")
    assert p.render().splitlines()[2] == "  " + " " * 14 + "^"
    q = node_problem(root.get("top"), "expected a list")
    assert q.location == Location(NAME, 2, 3) and q.snippet == "  loss: sigma(z)**2"


def test_source_line():
    src = Source("f", "a\r\nb\rc\n")
    assert [src.line(n) for n in (0, 1, 2, 3, 5)] == [None, "a", "b", "c", None]


# --- refusals ----------------------------------------------------------------


def test_duplicate_keys_all_reported_with_both_lines():
    problems = problems_of("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert [p.location for p in problems] == [Location(NAME, 4, 3), Location(NAME, 5, 1)]
    assert problems[0].message == "duplicate key 'c' (first defined at line 3)"
    assert problems[1].message == "duplicate key 'a' (first defined at line 1)"
    assert problems[1].snippet == "a: 3"


def test_same_key_in_different_mappings_is_fine():
    root = load("x:\n  a: 1\ny:\n  a: 2\n")
    assert root.get("y").get("a").text == "2"


def test_anchor_is_refused():
    p = error_at("base: &b 1\nother: 2\n", 1, 7, "anchors and aliases are not allowed", "in full")
    assert p.snippet == "base: &b 1"


def test_alias_is_refused():
    error_at("a: 1\nb: *x\n", 2, 4, "anchors and aliases are not allowed")


def test_merge_key_is_refused():
    error_at("base: &b {x: 1}\nderived:\n  <<: *b\n", 1, 7, "anchors and aliases")


def test_billion_laughs_is_refused_before_expansion():
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    bomb += "".join(f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    start = time.monotonic()
    error_at(bomb, 1, 4, "anchors and aliases")
    assert time.monotonic() - start < 2


def test_recursive_alias_is_refused():
    error_at("a: &a [*a]\n", 1, 4, "anchors and aliases")


@pytest.mark.parametrize(
    "text, col, shown",
    [
        ("run: !!python/object:os.system ls\n", 6, "!!python/object:os.system"),
        ("run: !!python/object/apply:os.system [ls]\n", 6, "!!python/object/apply:os.system"),
        ("x: !custom 1\n", 4, "!custom"),
        ("x: !!binary aGVsbG8=\n", 4, "!!binary"),
        ("x: !!str 1\n", 4, "!!str"),
        ("x: ! 1\n", 4, "!"),
        ("x: !!map {a: 1}\n", 4, "!!map"),
    ],
)
def test_tags_are_refused(text, col, shown):
    error_at(text, 1, col, f"YAML tags ({shown}) are not allowed")


def test_deep_block_nesting_is_refused_at_the_crossing_collection():
    text = "".join("  " * k + "a:\n" for k in range(25)) + "  " * 25 + "v\n"
    error_at(text, 21, 41, "nested too deeply", "20")


def test_block_nesting_at_the_limit_is_fine():
    text = "".join("  " * k + "a:\n" for k in range(20)) + "  " * 20 + "v\n"
    node = load(text)
    for _ in range(20):
        node = node.get("a")
    assert node.text == "v"


def test_deep_flow_nesting_is_refused():
    error_at("a: [[[[1]]]]\n", 1, 6, "nested too deeply", limits=Limits(max_yaml_depth=2))
    error_at("a: {b: {c: {d: 1}}}\n", 1, 12, "nested too deeply", limits=Limits(max_yaml_depth=3))


def test_hundred_thousand_brackets_fail_fast_and_cleanly():
    start = time.monotonic()
    p = error_at("[" * 100_000, 1, 21, "nested too deeply")
    assert time.monotonic() - start < 1
    assert len(p.snippet) < 200
    error_at("x: " + "{a: " * 50_000, 1, 4 + 20 * 4, "nested too deeply")


def test_bracket_prescan_ignores_quotes_comments_and_plain_text():
    text = "a: '[[[['\nb: \"{{{{ \\\" [[[\"\nc: x[[[[\n# [[[[[\nd: [1, 2] # [[[[\n"
    root = load(text, Limits(max_yaml_depth=2))
    assert root.get("a").text == "[[[[" and root.get("c").text == "x[[[["


def test_bad_utf8_is_refused_at_the_byte():
    p = error_at(b"a: 1\nb: caf\xff\n", 2, 7, "not UTF-8 text: byte 0xff")
    assert p.snippet.startswith("b: caf")


def test_nul_byte_is_refused():
    p = error_at(b"a: 1\nb: x\x00y\n", 2, 5, "U+0000", "not allowed")
    assert "\x00" not in p.render()


def test_other_control_character_is_refused():
    error_at("a: \x1b[31m\n", 1, 4, "U+001B")


def test_too_large_file_is_refused_before_parsing():
    small = Limits(max_file_bytes=10)
    error_at(b"a: [" + b"x" * 20, 1, 1, "file is too large (24 bytes; the limit is 10)", limits=small)
    error_at("é" * 6, 1, 1, "(12 bytes; the limit is 10)", limits=small)
    assert load("a: 1234", small).get("a").text == "1234"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n  # another\n", "---\n", "\ufeff"])
def test_empty_file_is_refused(text):
    error_at(text, 1, 1, "the file is empty")


def test_second_document_is_refused():
    error_at("a: 1\n---\nb: 2\n", 2, 1, "only one YAML document")
    error_at("--- a\n--- b\n", 2, 1, "only one YAML document")


def test_syntax_errors_are_positioned():
    p = error_at("a: 1\n b: 2\n", 2, 3, "invalid YAML", "mapping values are not allowed")
    assert p.snippet == " b: 2"
    q = error_at("a: [1, 2\nb: 3\n", 1, 4, "'[' is never closed", "a ']' is missing")  # where it opened
    assert q.snippet == "a: [1, 2"
    error_at("a: {b: 1\nc: 2\n", 1, 4, "'{' is never closed", "a '}' is missing")
    error_at("a: 'open\n", 1, 4, "invalid YAML", "this ' is never closed")  # not at the end of the file
    t = error_at("a:\n\tb: 1\n", 2, 1, "invalid YAML", "tab")
    assert t.hint == "use spaces to indent: YAML does not allow tabs"


def test_duplicates_are_kept_when_a_syntax_error_follows():
    problems = problems_of("a: 1\na: 2\nb: [\n")
    assert problems[0].message.startswith("duplicate key 'a'")
    assert problems[-1].message.startswith("invalid YAML")


def test_complex_keys_are_refused():
    error_at("? [a, b]\n: 1\n", 1, 3, "complex keys are not allowed")
    error_at("{[a]: 1}\n", 1, 2, "complex keys are not allowed")
    error_at("x:\n  ? {a: 1}\n  : 2\n", 2, 5, "complex keys are not allowed")


# --- files -------------------------------------------------------------------


def test_load_file_reads_and_names_locations(tmp_path):
    path = tmp_path / "ex1.yaml"
    path.write_bytes(b"a: 1\nb: [x]\n")
    root = load_file(path)
    assert root.get("b").location == Location(str(path), 2, 4)
    shown = load_file(str(path), display_name="exercises/ex1.yaml")
    assert shown.get("b").location.file == "exercises/ex1.yaml"


def test_load_file_refuses_large_file_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"1" * 5000)
    with pytest.raises(BackpropError) as info:
        load_file(path, Limits(max_file_bytes=100), display_name="big.yaml")
    p = info.value.problems[0]
    assert p.message == "file is too large (5003 bytes; the limit is 100)"  # its real size
    assert p.location == Location("big.yaml", 1, 1)


def test_load_file_missing(tmp_path):
    with pytest.raises(BackpropError) as info:
        load_file(tmp_path / "nope.yaml", display_name="nope.yaml")
    p = info.value.problems[0]
    assert p.location is None
    assert p.message == "cannot read 'nope.yaml': no such file"


def test_load_file_directory(tmp_path):
    with pytest.raises(BackpropError) as info:
        load_file(tmp_path, display_name="somedir")
    p = info.value.problems[0]
    assert p.location is None
    assert p.message == "cannot read 'somedir': it is a directory, not a file"


@pytest.mark.parametrize(
    "text",
    ["]", "a: b: c", "%YAML 9.9\n---\na: 1", "a: 'x' y", "- a\nb: 1", "{a: 1", "a: |\n x\n  y\n z",
     "\ufeff\ufeff", "a: \ud800", ":", "? ", "- - - - - -", "&a", "*a", "!x"],
)
def test_odd_inputs_load_or_fail_with_a_positioned_backprop_error(text):
    try:
        load(text)
    except BackpropError as e:
        assert all(p.location is not None and p.location.line >= 1 and p.location.column >= 1
                   for p in e.problems)
