"""Answer files: the YAML that ``solve`` writes and ``check --answers`` reads."""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"-?[0-9]+")


def answers_yaml(pairs: list[tuple[str, str]], exercise_id: str | None = None) -> str:
    """``key: value`` lines; anything but an integer is quoted, so YAML keeps it text."""
    lines = [f"exercise: {exercise_id}"] if exercise_id else []
    for key, value in pairs:
        lines.append(f"{key}: {value if _PLAIN.fullmatch(value) else json.dumps(value)}")
    return "\n".join(lines) + "\n"
