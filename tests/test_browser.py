"""A real browser opens the HTML report: headless Chromium runs the page's script, then we read the DOM.

Skipped, with the reason shown, where no Chromium is installed (Debian package
``chromium``; .ci/run installs it).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser

import pytest

from cli_runner import invoke
from html_pages import MLP, one_wrong_answers

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((path for path in map(shutil.which, BROWSERS) if path), None)
needs_browser = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium here: install the Debian package 'chromium' to run the browser test")
HANG = 180  # seconds before a stuck browser is given up on (a guard against hanging, not a speed test)


def _browser(tmp_path, *args: str) -> subprocess.CompletedProcess:
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=HANG, check=False)


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    result = invoke("check", MLP, "--answers", one_wrong_answers(folder), "--format", "html",
                    "--time-limit", 120)
    assert result.exit_code == 1, result.output
    page = folder / "report.html"
    page.write_text(result.stdout, encoding="utf-8")
    return page


@needs_browser
def test_the_script_marks_and_shows_the_first_wrong_node(report, tmp_path):
    done = _browser(tmp_path, "--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = Elements()
    dom.feed(done.stdout)
    found = dom.found
    assert any(tag == "main" and attrs.get("data-ready") == "yes" for tag, attrs in found), \
        "the page's script did not run to its end"
    assert any(tag == "svg" and "graph" in attrs.get("class", "").split() and "pointing" in attrs["class"]
               for tag, attrs in found)
    boxes = {attrs["data-node"]: attrs["class"].split() for tag, attrs in found
             if tag == "g" and "box" in attrs.get("class", "").split() and "data-node" in attrs}
    assert {"wrong", "first-wrong", "lit"} <= set(boxes["W2"])
    assert [n for n, cls in boxes.items() if "wrong" in cls] == ["W2"]
    assert "lit" in boxes["loss"] and "lit" not in boxes["W1"]  # W2's paths lead to the loss, not back
    text = "".join(dom.text)
    assert re.search(r"∂loss/∂W2 \(3x3\) = ∂loss/∂z2_1 \(3x1\) @ x2\.T \(1x3\)", text)


@needs_browser
def test_a_screenshot_of_the_report(report, tmp_path):
    shot = tmp_path / "report.png"
    done = _browser(tmp_path, "--hide-scrollbars", "--window-size=1400,1000", f"--screenshot={shot}",
                    report.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 1000)
    assert len(data) > 20_000  # a page with a table, a graph and text, not a blank image
