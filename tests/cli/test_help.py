"""Every subcommand's --help: a description, every argument described, examples and exit codes."""

from __future__ import annotations

import argparse

import pytest

from tui.cli import build_parser, main


def _parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    found: list[tuple[str, argparse.ArgumentParser]] = []

    def walk(parser: argparse.ArgumentParser, words: str) -> None:
        found.append((words, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{words} {name}".strip())

    walk(build_parser(), "")
    return found


@pytest.mark.parametrize(("words", "parser"), _parsers(), ids=lambda v: v if isinstance(v, str) else "")
def test_help_describes_every_argument_with_examples_and_exit_codes(
    words: str, parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert parser.description, words
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        assert action.help, f"{words}: {action.dest} has no description"
    has_children = any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
    if has_children and words:
        return  # `data`, `sandbox`: their subcommands carry the examples
    assert main([*words.split(), "--help"]) == 0
    page = capsys.readouterr().out
    assert "examples:\n  sagewiz" in page and "exit codes:\n  0  " in page and "\n  2  " in page
