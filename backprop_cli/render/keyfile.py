"""Answer files: the YAML that ``solve`` writes and ``check --answers`` reads."""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"-?[0-9]+")


def _scalar(text: str) -> str:
    return text if _PLAIN.fullmatch(text) else json.dumps(text)


def _value(value) -> str:
    """A value in YAML flow style; a tensor is a list of rows."""
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return _scalar(value)


def answers_yaml(pairs: list[tuple[str, str | list]], exercise_id: str | None = None) -> str:
    """``key: value`` lines; anything but an integer is quoted, so YAML keeps it text."""
    lines = [f"exercise: {exercise_id}"] if exercise_id else []
    lines += [f"{key}: {_value(value)}" for key, value in pairs]
    return "\n".join(lines) + "\n"
