"""The `sagewiz` command line: the wizard (TUI or --plain) and the scriptable subcommands.

Exit codes: 0 success, 1 a blocking cause found / a job or transfer failed, 2 bad usage or
configuration (one line on stderr). No traceback reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        from services.terminal_text import safe_line

        # argparse's message quotes what was typed (an unknown choice, a bad value): escaped, bounded
        print(f"sagewiz: {safe_line(message, 300)} (see `{self.prog} --help`)", file=sys.stderr)
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


def _codes(ok: str, fail: str, usage: str) -> str:
    return f"  0  {ok}\n  1  {fail}\n  2  {usage}"


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
        prog="sagewiz",
        description="From an empty AWS account to a trained and tuned SageMaker model.",
        epilog="examples:\n  sagewiz --sandbox\n  sagewiz --plain --profile dev\n  sagewiz COMMAND --help\n\n"
        "exit codes:\n" + _codes("success", "AWS refused, or a step, job or copy failed",
                                  "bad usage or input: one line on stderr says what to fix"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
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
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def command(
        parent: Any, name: str, summary: str, description: str, examples: list[str], codes: str
    ) -> Any:
        """A subcommand whose --help says what it does, shows examples and the exit codes."""
        epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) + f"\n\nexit codes:\n{codes}"
        return parent.add_parser(
            name, help=summary, description=textwrap.fill(description, 78), epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip

    p = command(
        sub, "doctor", "diagnose an AccessDenied / 'access is forbidden' error",
        "Explain why AWS refused a request: which policy denies it (or lacks an allow) and the smallest "
        "change that fixes it. Give the error text; the principal, bucket, key and action are read from "
        "it, or given with the flags. Or name a failed job (--job) or notebook instance (--notebook): its "
        "FailureReason, role, channels, output path, KMS keys and VPC are read and diagnosed.",
        ["sagewiz doctor --error-file err.txt",
         "aws s3 cp f s3://b/k 2>&1 | sagewiz doctor --error-file -",
         "sagewiz doctor --job my-training-job",
         "sagewiz doctor --principal arn:aws:iam::123456789012:role/R --bucket b --action s3:PutObject --json",
         "sagewiz doctor --error-file err.txt --fix --dry-run",
         "sagewiz doctor --error-file err.txt --fix --yes"],
        _codes("nothing blocks the access (with --fix: allowed after the fix, or already)",
               "a blocking cause was found (or AWS refused the reads); with --fix: still refused, the fix "
               "failed or was declined, or --dry-run printed the plan",
               "bad usage, or not enough to diagnose (one line on stderr); with --fix: nothing sagewiz can "
               "apply, or no terminal to ask and no --yes"),
    )  # fmt: skip
    _common(p)
    p.add_argument("--error", metavar="TEXT", help="the error text, as AWS printed it")
    p.add_argument(
        "--error-file",
        metavar="FILE",
        help=f"a file holding the error text (- for stdin; at most {1_000_000:,} bytes)",
    )
    p.add_argument(
        "--principal", metavar="ARN", help="the principal ARN (user, role or assumed-role session)"
    )
    p.add_argument("--bucket", help="the S3 bucket the request was for")
    p.add_argument("--key", help="the S3 object key the request was for")
    p.add_argument("--action", help="the refused action, e.g. s3:PutObject")
    p.add_argument(
        "--job", metavar="NAME", help="diagnose a failed training, tuning or labeling job by its name"
    )
    p.add_argument("--notebook", metavar="NAME", help="diagnose a failed notebook instance by its name")
    p.add_argument("--json", action="store_true", help="print one JSON object (see README)")
    p.add_argument(
        "--fix",
        action="store_true",
        help="apply the recommended fix (shows the plan and asks first), then re-check and retry the request",
    )
    p.add_argument("--dry-run", action="store_true", help="with --fix: print the fix's plan, change nothing")
    p.add_argument(
        "--yes",
        action="store_true",
        default=argparse.SUPPRESS,
        help="with --fix: apply without asking (needed without a terminal)",
    )

    p = command(
        sub, "logs", "print a job's CloudWatch log",
        "Print the CloudWatch log of a training job, one '<UTC time> <host> <message>' line per event. "
        "A tuning job's name prints every training job it started; a labeling job has no such log.",
        ["sagewiz logs my-training-job", "sagewiz logs my-training-job --follow --since 10m",
         "sagewiz logs my-tuning-job | grep objective"],
        _codes("printed (with --follow: the job ended well)", "the job failed, or AWS refused",
               "no such job, a name SageMaker would refuse, or bad usage"),
    )  # fmt: skip
    _common(p)
    p.add_argument("job", metavar="JOB", help="the training (or tuning) job's name")
    p.add_argument("--follow", action="store_true", help="keep printing new lines until the job ends")
    p.add_argument("--tuning", action="store_true", help="JOB is a tuning job: print every child's log")
    p.add_argument(
        "--since", metavar="DURATION", help="only lines newer than this, e.g. 10m, 2h, 1d (at most 10 years)"
    )

    p = command(
        sub, "status", "print the state of jobs (or one job)",
        "Without JOB: the recent training, tuning and labeling jobs, each kind under its header. With "
        "JOB: that job's state, whichever kind it is (training: timeline, billable seconds, cost "
        "estimate, metrics; tuning: children and best job; labeling: progress).",
        ["sagewiz status", "sagewiz status my-training-job", "sagewiz status my-tuning-job --json"],
        _codes("the job is running or done", "the job failed, or AWS refused",
               "no such job, a name SageMaker would refuse, or bad usage"),
    )  # fmt: skip
    _common(p)
    p.add_argument("job", nargs="?", metavar="JOB", help="a training, tuning or labeling job's name")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser("data", help="data commands (sync)", description="Data commands.")
    dsub = p.add_subparsers(dest="data_command", parser_class=_Parser, required=True, metavar="COMMAND")
    ps = command(
        dsub, "sync", "copy a folder or s3:// prefix to an s3:// prefix, skipping unchanged files",
        "Copy a local folder or an s3:// prefix to an s3:// prefix; files already there and unchanged "
        "are skipped, so running it again copies only what changed.",
        ["sagewiz data sync ./images s3://my-bucket/images/ --dry-run",
         "sagewiz data sync s3://src-bucket/images/ s3://my-bucket/images/"],
        _codes("copied (or nothing to copy)", "some files failed, or AWS refused",
               "a source or destination that cannot be used, or bad usage"),
    )  # fmt: skip
    _common(ps)
    ps.add_argument("src", metavar="SRC", help="a local folder or an s3:// prefix")
    ps.add_argument("dst", metavar="DST", help="the s3:// prefix to copy into")
    ps.add_argument("--dry-run", action="store_true", help="print what would be copied, copy nothing")

    p = sub.add_parser("sandbox", help="the embedded AWS (serve, stop)", description="The embedded AWS.")
    ssub = p.add_subparsers(dest="sandbox_command", parser_class=_Parser, required=True, metavar="COMMAND")
    pserve = command(
        ssub, "serve",
        "serve the sandbox world for other tools (the AWS CLI, a notebook) and print its exports",
        "Serve the sandbox world on 127.0.0.1 and print the AWS_* exports that point other tools at it.",
        ["sagewiz sandbox serve", "sagewiz sandbox serve --background --port 4566"],
        _codes("served until Ctrl-C (or started in the background)", "it could not start", "bad usage"),
    )  # fmt: skip
    pserve.add_argument("--port", type=port_number, default=0, help="port on 127.0.0.1 (default: a free one)")
    pserve.add_argument(
        "--background", action="store_true", help="keep it running after this command (until `sandbox stop`)"
    )
    pserve.add_argument(
        "--fresh", action="store_true", help="stop the running sandbox world and seed a new one"
    )
    command(
        ssub, "stop", "stop the sandbox world kept running in the background",
        "Stop the sandbox world `sandbox serve --background` (or `sagewiz --sandbox`) left running; its state is gone.",
        ["sagewiz sandbox stop"], _codes("stopped, or none was running", "it could not be stopped", "bad usage"),
    )  # fmt: skip

    p = command(
        sub, "export", "write this session's choices as TOML",
        "Write the choices of the newest session in the journal as a TOML file `sagewiz apply` accepts "
        "(values it would refuse are left out and named). No AWS call.",
        ["sagewiz export sagewiz.toml", "sagewiz export --sandbox sandbox.toml"],
        _codes("written", "-", "no session to export, the journal cannot be read, or bad usage"),
    )  # fmt: skip
    _common(p)
    p.add_argument("file", metavar="FILE", help="the TOML file to write (replaced if it exists)")

    p = command(
        sub, "apply", "carry out the choices of a TOML file, non-interactively",
        "Check the whole file (keys, types, ranges, references) before any AWS call, then walk the "
        "steps with the same plans as the wizard, applying each change.",
        ["sagewiz apply sagewiz.toml --dry-run", "sagewiz apply sagewiz.toml --yes"],
        _codes("done (or nothing to change)", "a step failed, or AWS refused",
               "the file is invalid, the connection cannot be made, or bad usage"),
    )  # fmt: skip
    _common(p)
    p.add_argument(
        "file",
        metavar="FILE",
        help=f"the TOML file of choices (see `sagewiz export`; at most {1_000_000:,} bytes)",
    )
    p.add_argument("--dry-run", action="store_true", help="print each step's plan, change nothing")
    p.add_argument(
        "--yes",
        action="store_true",
        default=argparse.SUPPRESS,
        help="apply without asking (needed without a terminal)",
    )
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
    for word in words:
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:  # bytes that are not UTF-8 arrive as lone surrogates
            from services.terminal_text import echo

            print(
                f"sagewiz: the argument {echo(word)} holds bytes that are not UTF-8 text; "
                "AWS names and sagewiz's files are UTF-8 (rename the file, or retype the value)",
                file=sys.stderr,
            )
            return EXIT_USAGE
    lean = not any(w in COMMANDS or w in {"-h", "--help"} or not w.startswith("-") for w in words)
    try:
        args = build_parser(with_subcommands=not lean).parse_args(words)
    except SystemExit as done:  # --help printed, or a usage error said in one line
        return done.code if isinstance(done.code, int) else EXIT_USAGE
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
    except Exception as exc:  # the wizard's own start (before the App catches its errors)
        return report_error(exc)


def _run_command(args: argparse.Namespace) -> int:
    return _run_module(COMMANDS[args.command], args)


def _run_module(module: str, args: argparse.Namespace) -> int:
    from services.terminal_text import EscapingStream

    # A subcommand writes plain lines (never a prompt): everything it writes passes the escaping
    # stream, so outside text a renderer forgot to escape still cannot drive the terminal.
    # --plain asks its questions through prompt_toolkit, which owns the terminal: left as is.
    guard = module != "plain"
    saved = sys.stdout, sys.stderr
    if guard:
        sys.stdout, sys.stderr = EscapingStream(sys.stdout), EscapingStream(sys.stderr)
    try:
        mod = importlib.import_module(f"tui.commands.{module}")
        return int(mod.run(args))
    except KeyboardInterrupt:
        raise
    except BrokenPipeError:  # `| head` closed the pipe: nothing more to say, and no one to say it to
        return EXIT_OK
    except Exception as exc:  # the last guard: a person gets a sentence, not a traceback
        return report_error(exc, what=f"sagewiz {args.command or module}")
    finally:
        if guard:
            sys.stdout, sys.stderr = saved


def report_error(exc: BaseException, what: str = "sagewiz") -> int:
    """Print `exc` as the error model says and return the exit code: what the user gave is wrong ->
    one line saying what and how to fix it, exit 2; AWS refused -> exit 1 and the doctor command;
    anything else -> a short line and the file holding the details, exit 1."""
    from services.errors import ErrorClass, SagewizError, aws_error_text, error_class, translate
    from services.remedy import Face, Remedy, RemedyKind

    err = exc if isinstance(exc, SagewizError) else translate(exc)
    kind = error_class(err)
    if kind is ErrorClass.INTERNAL:
        from services.crash_log import write_details

        path = write_details(exc, what)
        where = f"details: {path}" if path else "the details could not be written"
        print(
            f"sagewiz: something went wrong inside sagewiz ({type(exc).__name__}); {where}. "
            "Please report it with that file.",
            file=sys.stderr,
        )
        return EXIT_FAIL
    if err.remedy is not None and err.remedy.kind is RemedyKind.OPEN_DOCTOR and not err.remedy.path:
        from services.crash_log import write_text

        kept = write_text("aws-error", aws_error_text(err))
        if kept is not None:
            err.remedy = Remedy(RemedyKind.OPEN_DOCTOR, path=str(kept))
    print(f"sagewiz: {one_line(err.title, err.message, err.advice(Face.CLI))}", file=sys.stderr)
    return EXIT_USAGE if kind is ErrorClass.INPUT else EXIT_FAIL


def one_line(title: str, message: str, advice: str) -> str:
    """An error as one line: what happened, then what to do; outside text escaped and bounded."""
    from services.terminal_text import safe_line

    what = safe_line(title, 200) + (f": {safe_line(message, 500)}" if message else "")
    if not advice:
        return what
    todo = " ".join(advice.split())  # a hint written over two lines ("Run: ...\nthen ...") reads on one
    return f"{what.rstrip('.')}. {safe_line(todo, 500)}"


def run_tui(args: argparse.Namespace) -> int:
    from services.session import AwsTarget
    from tui.app import SagewizApp
    from tui.steps import STEP_IDS

    if args.step and args.step not in STEP_IDS:
        from services.terminal_text import echo

        print(f"sagewiz: unknown step {echo(args.step)}; steps are: {', '.join(STEP_IDS)}", file=sys.stderr)
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
