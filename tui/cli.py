"""The `sagewiz` command line: the wizard (TUI or --plain) and the scriptable subcommands.

Exit codes: 0 success, 1 a blocking cause found / a job or transfer failed, 2 bad usage or
configuration (one line on stderr). No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"sagewiz: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _common(p: argparse.ArgumentParser, sub: bool = True) -> None:
    # On subcommands the defaults are suppressed, so `sagewiz --sandbox apply F` and
    # `sagewiz apply F --sandbox` mean the same (a subparser's default would win otherwise).
    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if sub else {}
    g = p.add_argument_group("AWS connection (default: the standard AWS_* variables and files)")
    g.add_argument("--profile", help="AWS profile name (AWS_PROFILE)", **kw)
    g.add_argument("--region", help="AWS region, e.g. eu-north-1 (AWS_REGION)", **kw)
    g.add_argument("--endpoint-url", help="custom endpoint, e.g. an emulator (AWS_ENDPOINT_URL)", **kw)
    g.add_argument(
        "--sandbox", action="store_true", help="use the embedded AWS emulator; no account needed", **kw
    )
    g.add_argument(
        "--fresh",
        action="store_true",
        help="with --sandbox: stop the sandbox world kept from earlier runs and seed a new one",
        **kw,
    )


def port_number(text: str) -> int:
    """A TCP port for --port: 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 65535, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 0 to 65535 (0: any free port), not {value}")
    return value


def build_parser(with_subcommands: bool = True) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sagewiz", description="From an empty AWS account to a trained and tuned SageMaker model."
    )
    _common(parser, sub=False)
    parser.add_argument(
        "--plain", action="store_true", help="walk the steps with plain prompts instead of the TUI"
    )
    parser.add_argument(
        "--yes", action="store_true", help="with --plain and --config: answer yes to confirmations"
    )
    parser.add_argument("--config", help="with --plain: a TOML file of choices (see `sagewiz export`)")
    parser.add_argument("--step", help="open this step directly (connect, notebook, bucket, data, ...)")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    if not with_subcommands:
        # The wizard's own start: the subcommands' parsers are not needed, and building them
        # costs a visible share of the time to the first screen.
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    p = sub.add_parser("doctor", help="diagnose an AccessDenied / 'access is forbidden' error")
    _common(p)
    p.add_argument("--error", help="the error text")
    p.add_argument("--error-file", help="a file holding the error text (- for stdin)")
    p.add_argument("--principal", help="the principal ARN (user, role or assumed-role session)")
    p.add_argument("--bucket")
    p.add_argument("--key")
    p.add_argument("--action", help="e.g. s3:PutObject")
    p.add_argument("--json", action="store_true", help="print one JSON object (see README)")

    p = sub.add_parser("logs", help="print a job's CloudWatch log")
    _common(p)
    p.add_argument("job")
    p.add_argument("--follow", action="store_true")
    p.add_argument("--tuning", action="store_true", help="JOB is a tuning job: print every child's log")
    p.add_argument("--since", help="only lines newer than this, e.g. 10m, 2h, 1d")

    p = sub.add_parser("status", help="print the state of jobs (or one job)")
    _common(p)
    p.add_argument("job", nargs="?")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("data", help="data commands")
    dsub = p.add_subparsers(dest="data_command", parser_class=_Parser, required=True)
    ps = dsub.add_parser(
        "sync", help="copy a folder or s3:// prefix to an s3:// prefix, skipping unchanged files"
    )
    _common(ps)
    ps.add_argument("src")
    ps.add_argument("dst")
    ps.add_argument("--dry-run", action="store_true")

    p = sub.add_parser("sandbox", help="the embedded AWS")
    ssub = p.add_subparsers(dest="sandbox_command", parser_class=_Parser, required=True)
    pserve = ssub.add_parser(
        "serve",
        help="serve the sandbox world for other tools (the AWS CLI, a notebook) and print its exports",
    )
    pserve.add_argument("--port", type=port_number, default=0, help="port on 127.0.0.1 (default: a free one)")
    pserve.add_argument(
        "--background", action="store_true", help="keep it running after this command (until `sandbox stop`)"
    )
    pserve.add_argument(
        "--fresh", action="store_true", help="stop the running sandbox world and seed a new one"
    )
    ssub.add_parser("stop", help="stop the sandbox world kept running in the background")

    p = sub.add_parser("export", help="write this session's choices as TOML")
    _common(p)
    p.add_argument("file")

    p = sub.add_parser("apply", help="carry out the choices of a TOML file, non-interactively")
    _common(p)
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--yes", action="store_true", default=argparse.SUPPRESS)
    return parser


# subcommand -> module in tui.commands providing run(args) -> int
COMMANDS = {
    "doctor": "doctor",
    "logs": "logs",
    "status": "status",
    "data": "data_sync",
    "sandbox": "sandbox_serve",
    "export": "export_apply",
    "apply": "export_apply",
}


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    lean = not any(w in COMMANDS or w in {"-h", "--help"} or not w.startswith("-") for w in words)
    args = build_parser(with_subcommands=not lean).parse_args(words)
    if args.version:
        from services.version import __version__

        print(f"sagewiz {__version__}")
        return EXIT_OK
    if getattr(args, "fresh", False) and not getattr(args, "sandbox", False) and args.command != "sandbox":
        print("sagewiz: --fresh only applies with --sandbox (it seeds a new sandbox world)", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command:
            return _run_command(args)
        if args.plain:
            return _run_module("plain", args)
        return run_tui(args)
    except KeyboardInterrupt:
        print(
            "sagewiz: interrupted; nothing half-done was left unrecorded (see the journal).", file=sys.stderr
        )
        return 130


def _run_command(args: argparse.Namespace) -> int:
    return _run_module(COMMANDS[args.command], args)


def _run_module(module: str, args: argparse.Namespace) -> int:
    mod = importlib.import_module(f"tui.commands.{module}")
    try:
        return int(mod.run(args))
    except Exception as exc:  # the last guard: a person gets a sentence, not a traceback
        from services.errors import SagewizError, translate

        err = exc if isinstance(exc, SagewizError) else translate(exc)
        line = f"sagewiz: {err.title}" + (f": {err.message}" if err.message else "")
        print(line, file=sys.stderr)
        from services.remedy import Face

        if hint := err.advice(Face.CLI):
            print(f"  what to do: {hint}", file=sys.stderr)
        from services.errors import ConnectError, ValidationError

        return EXIT_USAGE if isinstance(err, (ConnectError, ValidationError)) else EXIT_FAIL


def run_tui(args: argparse.Namespace) -> int:
    from services.session import AwsTarget
    from tui.app import SagewizApp
    from tui.steps import STEP_IDS

    if args.step and args.step not in STEP_IDS:
        print(f"sagewiz: unknown step '{args.step}'; steps are: {', '.join(STEP_IDS)}", file=sys.stderr)
        return EXIT_USAGE
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        print(
            "sagewiz: the wizard needs a terminal; use --plain or a subcommand (see --help).", file=sys.stderr
        )
        return EXIT_USAGE
    target = AwsTarget.from_env(args.profile, args.region, args.endpoint_url)
    if args.sandbox:
        target = AwsTarget(sandbox=True)
        if not getattr(args, "fresh", False):
            from services.sandbox.persist import prestart

            prestart()  # the world boots in its own process while the first screen is drawn
    _maybe_probe_terminal_graphics()
    app = SagewizApp(
        target,
        sandbox=args.sandbox,
        fresh=bool(getattr(args, "fresh", False)),
        start_step=args.step or "connect",
        background_work=True,
    )
    code = app.run()
    for line in app.exit_summary:
        print(line)
    return int(code or 0)


_GRAPHICS_TERMINALS = ("kitty", "wezterm", "iterm.app", "ghostty", "konsole", "mlterm", "foot")


def _maybe_probe_terminal_graphics() -> None:
    """Terminal graphics (for image labeling) need a probe before Textual owns stdin. The probe
    waits for an answer that many terminals (tmux, plain xterm) never send, which would delay the
    first screen by a second, so it runs only where graphics are likely or asked for."""
    import os

    wanted = os.environ.get("SAGEWIZ_IMAGES", "auto").lower()
    if wanted == "halfblock":
        return
    term = " ".join(os.environ.get(v, "") for v in ("TERM_PROGRAM", "TERM", "LC_TERMINAL")).lower()
    if wanted == "graphics" or any(name in term for name in _GRAPHICS_TERMINALS):
        from screens.labels_image import preload_terminal_graphics

        preload_terminal_graphics()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
