"""YAML as JSON-like data for schema validation, without YAML 1.1's guesses.

PyYAML resolves plain scalars by YAML 1.1 (``yes`` is True, ``010`` is 8), which would
hide exactly the traps the schema must flag.  Here the file is read by backprop's own
loader (positions, no implicit typing) and each plain scalar is resolved by the YAML 1.2
JSON schema's rules: ``null``/``~``/empty, ``true``/``false`` (and their capitalised
forms), numbers written as JSON writes them; anything else (``010``, ``yes``, ``3/2``)
stays the text it is, as backprop reads it.
"""

from __future__ import annotations

import re

from backprop_cli.source.yamlsrc import YMapping, YNode, YScalar, YSequence, load_file, load_text

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def data(node: YNode):
    if isinstance(node, YMapping):
        return {key.text: data(value) for key, value in node.items}
    if isinstance(node, YSequence):
        return [data(item) for item in node.items]
    assert isinstance(node, YScalar)
    if node.style != "plain":
        return node.text
    text = node.text
    if node.is_null:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def load(path) -> object:
    return data(load_file(path))


def loads(text: str) -> object:
    return data(load_text(text, "<text>"))
