"""Answer keys: ``NAME`` (a forward value), ``dA/dB`` (a gradient), ``NAME@K`` (after K updates)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_GRAD = re.compile(rf"d({_NAME})/d({_NAME})")
_TRAIN = re.compile(rf"({_NAME})@([0-9]+)")
_VALUE = re.compile(_NAME)


@dataclass(frozen=True)
class ValueKey:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class GradKey:
    of: str  # a scalar step, or the outside loss named in `upstream`
    wrt: str  # a given or a step

    def __str__(self) -> str:
        return f"d{self.of}/d{self.wrt}"


@dataclass(frozen=True)
class TrainKey:
    name: str
    step: int

    def __str__(self) -> str:
        return f"{self.name}@{self.step}"


Key = ValueKey | GradKey | TrainKey


def parse_key(text: str) -> Key | None:
    """The key written as ``text``, or None when it is not a key at all.

    A gradient may be written as the trace writes it, ``∂loss/∂w``, and with spaces,
    ``dL / dw``: both are ``dL/dw``.
    """
    text = text.strip().replace("∂", "d")
    if "/" in text:
        text = "".join(text.split())
    if m := _GRAD.fullmatch(text):
        return GradKey(m[1], m[2])
    if m := _TRAIN.fullmatch(text):
        return TrainKey(m[1], int(m[2]))
    if _VALUE.fullmatch(text):
        return ValueKey(text)
    return None


KEY_FORMS = "NAME (a value), dA/dB (a gradient) or NAME@K (a value after K training steps)"
