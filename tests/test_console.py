"""Colour is rich's decision (a terminal, NO_COLOR unset or empty); flags win; width is safe."""

from __future__ import annotations

import io

import pytest

from backprop_cli.render import console as console_module


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch):
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    return FakeTerminal()


def on(stream, color=None):
    """make_console writing to ``stream`` (pytest swaps sys.stdout between setup and call,
    so the swap is made here, around the call)."""
    real = console_module.sys.stdout
    console_module.sys.stdout = stream
    try:
        return console_module.make_console(color)
    finally:
        console_module.sys.stdout = real


def colored(console) -> bool:
    return console.is_terminal and not console.no_color and console.color_system is not None


def rich_says(stream) -> bool:
    from rich.console import Console

    probe = Console(file=stream)
    return probe.is_terminal and not probe.no_color


def test_rich_decides(terminal):
    assert colored(on(terminal)) == rich_says(terminal)


def test_no_color_turns_it_off(terminal, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colored(on(terminal))


def test_an_empty_no_color_does_not_count(terminal, monkeypatch):
    unset = colored(on(terminal))
    monkeypatch.setenv("NO_COLOR", "")
    assert colored(on(terminal)) == unset


def test_the_flag_wins(terminal, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert colored(on(terminal, True))
    monkeypatch.delenv("NO_COLOR")
    assert not colored(on(terminal, False))


@pytest.mark.parametrize("columns,width", [("abc", 120), ("", 120), ("-5", 120), ("80", 80), ("10", 60)])
def test_plain_width_from_columns(monkeypatch, columns, width):
    monkeypatch.setenv("COLUMNS", columns)
    assert console_module.make_console(False).width == width
