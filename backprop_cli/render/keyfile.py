"""Answer files: the YAML that ``solve`` writes and ``check --answers`` reads."""

from __future__ import annotations

import json
import re

from backprop_cli.grading.results import SolvedKey

_PLAIN = re.compile(r"-?[0-9]+")
_SAFE_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_/@]*( \(formula\))?")


def _scalar(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else json.dumps(text)


def _value(value) -> str:
    """A value in YAML flow style; a tensor is a list of rows."""
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return _scalar(value)


def answers_yaml(solved: list[SolvedKey], exercise_id: str | None = None) -> str:
    """``key: value`` lines; anything but an integer is quoted, so YAML keeps it text.  A key
    with no value (a formula the language cannot write) is a comment saying why."""
    lines = [f"exercise: {exercise_id}"] if exercise_id else []
    for s in solved:
        if s.value is None:
            lines.append(f"# {s.label}: {s.note}")
        else:
            lines.append(f"{_key(s.label)}: {_value(s.value)}")
    return "\n".join(lines) + "\n"


def _key(label: str) -> str:
    """A key as YAML reads it back: 'dloss/dw (formula)' needs no quotes, but stay safe."""
    return label if _SAFE_KEY.fullmatch(label) else json.dumps(label)
