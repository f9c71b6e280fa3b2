"""Every command and every flag, fed random and hostile values (huge, empty, binary, control
characters, numbers where text is expected and text where numbers are): the command line answers
with an exit code of 0, 1 or 2, never a traceback, never raw control characters, and a bounded
amount of text. The commands and flags are read from the parser itself, so a new one is covered
as soon as it exists.

Commands run in this process through `tui.cli.main(argv)`, connected to the test's sandbox world.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.session import endpoint_problem
from tui.cli import build_parser, main, port_number

HOSTILE = [
    "", " ", "-", "--", "-h", "\x1b]0;pwned\x07", "\x1b[2J\x1b[H", "\x00", "\u202egnp.exe", "a\nb\rc",
    "x" * 100_000, "9" * 400, "99999999999d", "-1", "0", "NaN", "1e309", "../../../../etc/passwd",
    "/dev/zero", "/", "s3://", "s3://no-such-bucket-zz/k", "s3://\x1b]0;t\x07/k", "http://[::1",
    "arn:aws:iam::999999999999:role/service-role/Other", "{" * 5000, "ééé", "\udcff\udcfe",
    "some-job", "a" * 63, "a" * 33, "s3:PutObject", "sagewiz.toml",
]  # fmt: skip
SAFE_CONNECTION = {"--profile", "--region", "--endpoint-url", "--sandbox", "--fresh"}
OUTPUT_LIMIT = 60_000


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # the subcommand path, () for the wizard itself
    positionals: tuple[str, ...]
    optional_positionals: tuple[str, ...]  # nargs="?": may be left out
    options: tuple[str, ...]  # flags that take a value
    switches: tuple[str, ...]  # flags that take none


def commands() -> list[Command]:
    """Every subcommand (nested ones too) with its arguments, as the parser declares them."""
    found: list[Command] = []

    def walk(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        positionals, optional, options, switches = [], [], [], []
        subs = None
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                subs = action
            elif isinstance(action, argparse._HelpAction):
                continue
            elif not action.option_strings:
                (optional if action.nargs == "?" else positionals).append(action.dest)
            elif action.nargs == 0:
                switches.append(action.option_strings[-1])
            else:
                options.append(action.option_strings[-1])
        if subs is not None:
            for name, sub in subs.choices.items():
                walk(sub, (*words, name))
        if subs is None or not subs.required:
            found.append(Command(words, tuple(positionals), tuple(optional), tuple(options), tuple(switches)))

    walk(build_parser(), ())
    return found


COMMANDS = commands()

text_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),  # any code point, control characters included
    st.binary(max_size=24).map(lambda b: b.decode("utf-8", "surrogateescape")),  # argv from raw bytes
    st.integers().map(str),
    st.floats(allow_nan=True).map(str),
)


def _blocks_or_wanders(cmd: Command, argv: list[str]) -> bool:
    """Runs the test must not make: serving the sandbox (it waits for Ctrl-C) or copying a real
    folder of this machine."""
    if cmd.words == ("sandbox", "serve"):
        return True
    if cmd.words == ("data", "sync"):
        return any(_exists(a) for a in argv if a and not a.startswith("-"))
    return False


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):  # too long, or holding a NUL
        return False


@pytest.fixture
def connected(world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin.secret_key)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # an `export` to a relative path lands here
    return ["--region", world.region, "--endpoint-url", world.endpoint]


@settings(
    max_examples=int(os.environ.get("SAGEWIZ_HOSTILE_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_command_and_flag_survives_hostile_values(
    data: st.DataObject,
    connected: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cmd = data.draw(st.sampled_from(COMMANDS), label="command")
    argv = list(cmd.words)
    argv += [data.draw(text_values, label=f"<{p}>") for p in cmd.positionals]
    for p in cmd.optional_positionals:
        if data.draw(st.booleans(), label=f"give <{p}>"):
            argv.append(data.draw(text_values, label=f"<{p}>"))
    options = (
        data.draw(st.lists(st.sampled_from(cmd.options), unique=True), label="options") if cmd.options else []
    )
    hostile_connection = False
    for opt in options:
        value = data.draw(text_values, label=opt)
        if opt == "--endpoint-url" and endpoint_problem(value) is None:
            continue  # a well-formed URL elsewhere would wait for the network: covered by the sandbox's
        if opt == "--port":
            try:
                port_number(value)
                continue  # a valid port would start serving
            except argparse.ArgumentTypeError:
                pass
        hostile_connection |= opt in SAFE_CONNECTION
        argv += [f"{opt}={value}"] if value.startswith("-") else [opt, value]
    switches = [s for s in cmd.switches if s not in {"--sandbox", "--fresh", "--follow", "--background"}]
    argv += data.draw(st.lists(st.sampled_from(switches), unique=True), label="switches") if switches else []
    if cmd.words and cmd.words[0] != "sandbox" and not hostile_connection:
        argv += connected
    if _blocks_or_wanders(cmd, argv) and "--port" not in argv:
        return
    stdin = data.draw(st.binary(max_size=200), label="stdin")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))

    code = main(argv)

    out, err = capsys.readouterr()
    event(f"{' '.join(cmd.words) or 'wizard'} -> {code}" + (f": {err[:90]!r}" if code == 1 else ""))
    shown = out + err
    said = (brief(argv), shown[-1500:])
    assert code in (0, 1, 2), (code, *said)
    assert "Traceback" not in shown, said
    assert "Unexpected error" not in shown, said
    assert "\x1b" not in shown and "\x07" not in shown and "\x00" not in shown, said
    assert len(shown) < OUTPUT_LIMIT, (len(shown), *said)


def brief(argv: list[str]) -> list[str]:
    return [a if len(a) < 60 else f"{a[:40]!r}... ({len(a)} chars)" for a in argv]
