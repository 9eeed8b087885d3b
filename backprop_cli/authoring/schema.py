"""The JSON Schema (draft 2020-12) of the exercise format, shipped with the package.

Editors that speak JSON Schema (VS Code with the YAML extension, and any
editor using yaml-language-server) validate and complete exercise files with
it.  It describes the structure; backprop itself still reads every value from
its text and checks what a schema cannot (expressions, names, shapes).
"""

from __future__ import annotations

import json
from importlib import resources

FILE = "exercise.schema.json"


def schema_text() -> str:
    return resources.files("backprop_cli.authoring").joinpath(FILE).read_text(encoding="utf-8")


def schema() -> dict:
    return json.loads(schema_text())
