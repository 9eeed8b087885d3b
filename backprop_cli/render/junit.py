"""JUnit XML, as GitLab CI and GitHub's test-report actions read it.

One ``<testsuite>`` per exercise file and one ``<testcase>`` per asked item
(``classname`` the exercise id, ``name`` the answer key, ``file`` the
student's file).  A wrong or missing answer is a ``<failure>`` and an answer
that cannot be read an ``<error>``; their text says everything, because
GitLab shows the element's text and ignores its ``message``.  A file that
cannot be used is one testcase with an ``<error>``.  (classname, name) pairs
are unique, since GitLab drops repeated ones.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Sequence

from backprop_cli.grading.results import FileResult, ItemResult, Status, student_view
from backprop_cli.render.itemtext import exercise_name, headline, item_text

# Characters XML 1.0 cannot carry at all, even escaped (and lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(text: str) -> str:
    """Text that XML can hold: characters it cannot are written as escapes."""
    return _NOT_XML.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"),
                        text)


def junit_xml(results: Sequence[FileResult], owners: Sequence[str] | None = None,
              notes: Sequence[str] = ()) -> str:
    """The report; ``owners`` (one per result) prefixes suite and class names, e.g. students."""
    root = ET.Element("testsuites", name="backprop")
    seen: Counter = Counter()
    totals = Counter()
    for n, result in enumerate(results):
        prefix = f"{owners[n]}/" if owners else ""
        suite = _suite(student_view(result), prefix, seen)
        root.append(suite)
        for key in ("tests", "failures", "errors"):
            totals[key] += int(suite.get(key))
        totals["time"] += result.seconds
    root.set("tests", str(totals["tests"]))
    root.set("failures", str(totals["failures"]))
    root.set("errors", str(totals["errors"]))
    root.set("time", _seconds(totals["time"]))
    if notes:
        ET.SubElement(root, "system-out").text = clean("\n".join(notes))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(result: FileResult, prefix: str, seen: Counter) -> ET.Element:
    classname = _unique(clean(prefix + exercise_name(result)), seen)
    suite = ET.Element("testsuite", name=classname, file=clean(result.file), time=_seconds(result.seconds))
    counts = Counter()
    if result.error is not None:
        case = _case(suite, classname, "(file)", result.file, result.seconds)
        ET.SubElement(case, "error", message="the file cannot be graded", type="unusable").text = \
            clean(result.error)
        counts["errors"] += 1
    for item in result.items:
        case = _case(suite, classname, item.key, _file_of(item, result), item.seconds)
        kind = _outcome(item)
        if kind is not None:
            counts[kind + "s"] += 1
            ET.SubElement(case, kind, message=clean(headline(item)), type=item.status.value).text = \
                clean(item_text(item))
    if result.notes:
        ET.SubElement(suite, "system-out").text = clean("\n".join(result.notes))
    suite.set("tests", str(len(result.items) + (result.error is not None)))
    suite.set("failures", str(counts["failures"]))
    suite.set("errors", str(counts["errors"]))
    suite.set("skipped", "0")
    return suite


def _case(suite: ET.Element, classname: str, name: str, file: str, seconds: float) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=clean(name), file=clean(file),
                         time=_seconds(seconds))


def _outcome(item: ItemResult) -> str | None:
    if item.status is Status.CORRECT:
        return None
    return "error" if item.status is Status.INVALID else "failure"


def _file_of(item: ItemResult, result: FileResult) -> str:
    return item.location.file if item.location is not None else result.file


def _unique(name: str, seen: Counter) -> str:
    """The class name, numbered when an exercise comes up again (two copies of one file)."""
    seen[name] += 1
    return name if seen[name] == 1 else f"{name} #{seen[name]}"


def _seconds(x: float) -> str:
    return f"{max(0.0, x):.3f}"
