"""`sagewiz --plain`: the wizard's steps as plain questionary prompts, for screen readers, minimal
terminals and slow SSH. Same services, same plans (printed with their diffs), same confirmations
naming account, region and caller, same journal.

Ctrl-C at any prompt stops at once: every change already made is journaled as it happened, so
nothing is left unrecorded. Without a terminal it refuses, unless `--yes` and `--config FILE` are
given; then it runs like `sagewiz apply FILE --yes`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any, TextIO

from services.costs import CommandContext
from services.errors import SagewizError, ValidationError, translate
from services.flow.context import FlowContext
from services.flow.outcome import Status, StepOutcome, summary_line
from services.flow.walk import STEP_ORDER, Walk, error_line
from services.journal import Journal
from services.journal_events import SessionStarted
from services.remedy import Face
from services.state import WizardState
from services.terminal_text import safe
from tui.commands.export_apply import EXIT_FAIL, EXIT_OK, EXIT_USAGE, flow_context

EXIT_INTERRUPTED = 130
STEP_TITLES = {
    "bucket": "Bucket",
    "role": "Execution role",
    "notebook": "Notebook instance",
    "data": "Data",
    "permissions": "Permissions",
    "labels": "Labels",
    "train": "Train",
    "tune": "Tune",
    "cleanup": "Clean up",
}


def run(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    *,
    interactive: bool | None = None,
    journal: Journal | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if interactive is None:
        interactive = sys.stdin.isatty() and sys.stdout.isatty()
    if not interactive or (args.yes and args.config):
        if args.yes and args.config:
            from tui.commands.export_apply import run_apply

            ns = argparse.Namespace(**{**vars(args), "file": args.config, "dry_run": False, "yes": True})
            return run_apply(ns, out, err, journal=journal)
        print(
            "sagewiz: --plain asks questions and needs a terminal; to run without one, give the answers in "
            "a file: sagewiz --plain --yes --config FILE (write one with `sagewiz export FILE`).",
            file=err,
        )
        return EXIT_USAGE
    try:
        return Plain(args, out, err, journal).main()
    except KeyboardInterrupt:
        print(
            "\nStopped. Everything done so far is in the journal; nothing half-done was left unrecorded.",
            file=out,
        )
        return EXIT_INTERRUPTED


class Plain:
    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO, journal: Journal | None) -> None:
        self.args, self.out, self.err = args, out, err
        self.journal = journal or Journal()
        self.walk: Walk | None = None

    @property
    def ctx(self) -> FlowContext:
        assert self.walk is not None
        return self.walk.ctx

    @property
    def state(self) -> WizardState:
        assert self.walk is not None
        return self.walk.state

    def say(self, text: str = "") -> None:
        print(safe(text), file=self.out, flush=True)  # plans and errors quote outside text

    # -- questions (unsafe_ask: Ctrl-C raises KeyboardInterrupt, handled in run) -----------------
    def ask_text(self, message: str, default: str = "", validate: Any = None) -> str:
        import questionary

        return str(questionary.text(message, default=default, validate=validate).unsafe_ask()).strip()

    def ask_yes(self, message: str, default: bool = True) -> bool:
        import questionary

        return bool(questionary.confirm(message, default=default).unsafe_ask())

    def ask_choice(self, message: str, choices: list[tuple[str, str]], default: str | None = None) -> str:
        import questionary

        options = [questionary.Choice(title, value) for title, value in choices]
        picked = next((o for o in options if o.value == default), None)
        return str(questionary.select(message, choices=options, default=picked).unsafe_ask())

    def confirm_plan(self, title: str, _text: str) -> bool:
        self.say(f"This changes {self.ctx.where()}.")
        return self.ask_yes(f"{title}: apply it?", default=False)

    # -- the walk --------------------------------------------------------------------------------
    def main(self) -> int:
        from services.flow import connect
        from tui.commands.common import connect_from_args

        state = WizardState()
        if self.args.config:
            from services.config_file import load

            load(self.args.config).to_state(state)  # a bad file stops here, before any AWS call
        step = getattr(self.args, "step", None)
        if step and step not in (*STEP_ORDER, "cleanup", "connect"):
            raise ValidationError(
                "step",
                f"'{step}' is not a step of --plain",
                f"Use one of: {', '.join((*STEP_ORDER, 'cleanup'))}.",
            )
        self.say("sagewiz (plain mode) - connecting ...")
        ctx = connect_from_args(self.args)
        ident = ctx.identity
        sandbox = " (SANDBOX: the embedded AWS on this machine, not your account)" if ident.sandbox else ""
        self.say(f"Connected: account {ident.account}, region {ident.region}, as {ident.arn}{sandbox}")
        self.journal.bind(ident.account, ident.region, ident.sandbox)
        self.journal.append(
            SessionStarted(caller=ident.arn, endpoint=ident.endpoint, sandbox=ident.sandbox, mode="plain")
        )
        connect.record(state, ident)
        self.walk = Walk(flow_context(ctx, self.journal), state, self.confirm_plan, self.say, face=Face.PLAIN)
        if not self.args.config and step in (None, "connect"):
            self.offer_resume()
        if step == "cleanup":
            return self.cleanup()
        steps = STEP_ORDER if step in (None, "connect") else STEP_ORDER[STEP_ORDER.index(step) :]
        outcomes: list[StepOutcome] = []
        for name in steps:
            choice = self.ask_choice(
                f"Next: {STEP_TITLES[name]}",
                [("Go through this step", "run"), ("Skip it", "skip"), ("Finish here", "quit")],
                "run",
            )
            if choice == "quit":
                break
            if choice == "skip":
                continue
            ask = getattr(self, f"ask_{name}", None)
            try:
                if ask is not None and ask() is False:
                    continue
            except ImportError as exc:
                self.say(f"The {STEP_TITLES[name]} step is not available in this version ({exc.name}).")
                continue
            except SagewizError as err:  # e.g. the role list could not be read
                self.say(error_line(err, Face.PLAIN))
                if not self.ask_yes("Go on with the next step?", True):
                    break
                continue
            outcome = self.walk.run_step(name)
            outcomes.append(outcome)
            if outcome.status is Status.FAILED and not self.ask_yes(
                "That step failed. Go on with the next one?", False
            ):
                break
        self.say("\n" + summary_line(outcomes))
        self.offer_export()
        if self.ask_yes("Review what sagewiz created (and clean up)?", default=False):
            self.cleanup()
        return EXIT_FAIL if any(o.status is Status.FAILED for o in outcomes) else EXIT_OK

    def offer_resume(self) -> None:
        from services.resume import offer_for, resume

        ctx = self.ctx
        try:
            offer = offer_for(self.journal, ctx.factory, ctx.account, ctx.region, ctx.sandbox)
        except SagewizError:
            return
        if offer is None:
            return
        gone = [f"  no longer there (not restored): {line}" for line in offer.missing]
        self.say("\n".join(["A previous session was found:", *offer.summary(), *gone]))
        if self.ask_yes("Resume it (reuse its choices)?", default=True):
            self.say(resume(self.state, offer).line())
            if offer.attach_to is not None:
                a = offer.attach_to
                t = ctx.factory.target
                where = CommandContext(ctx.region, t.profile, t.endpoint_url, ctx.sandbox)
                self.say(
                    f"Still running: {a.type} {a.name} ({a.status}). Follow it with: {where.sagewiz('status', a.name)}"
                )

    def offer_export(self) -> None:
        from services.config_file import export

        if not self.ask_yes(
            "Export these choices to a TOML file (replay with `sagewiz apply`)?", default=False
        ):
            return
        path = self.ask_text(
            "File name", "sagewiz.toml", validate=lambda t: bool(t.strip()) or "Type a file name."
        )
        written = export(self.state, path)
        for item in written.left_out:
            self.say(f"Left out {item}.")
        where = shlex.quote(str(written.path))
        self.say(f"Wrote {written.path}. Replay it with: sagewiz apply {where} --dry-run")

    # -- per-step questions (they fill the session's choices; services.flow plans and applies) ----
    def ask_bucket(self) -> bool:
        from services.buckets.naming import naming_problem
        from services.flow import bucket

        def valid(text: str) -> bool | str:
            p = naming_problem(text.strip())
            return True if p is None else f"{p.message} {p.hint}"

        default = bucket.default_name(self.ctx, self.state)
        self.state.update(
            bucket=self.ask_text(
                "Bucket name (SageMaker expects sagemaker-<region>-<account>)", default, valid
            )
        )
        return True

    def ask_role(self) -> bool:
        from services.flow import role
        from services.roles.listing import list_execution_roles, role_name_problem

        listing = list_execution_roles(self.ctx.factory)
        choices = [(f"{r.name}  ({r.arn})", r.arn) for r in listing.usable]
        choices.append(("Create a new role with a least-privilege policy for the bucket", "new"))
        picked = self.ask_choice("Execution role for SageMaker", choices, self.state.role_arn or None)
        if picked == "new":
            name = self.ask_text(
                "Role name", role.DEFAULT_ROLE_NAME, validate=lambda t: role_name_problem(t.strip()) or True
            )
            picked = role.new_role_arn(self.ctx, name)
        self.state.update(role_arn=picked)
        return True

    def ask_notebook(self) -> bool:
        from services import notebooks
        from services.flow import notebook

        if not self.ask_yes("Use a notebook instance (billed by the hour while InService)?", default=False):
            return False
        current = notebook.choices_from_state(self.state).spec
        name = self.ask_text(
            "Notebook instance name",
            self.state.notebook_name or notebook.DEFAULT_NAME,
            lambda t: notebooks.name_problem(t.strip()) or True,
        )
        options = notebooks.type_options(self.ctx.region)[:8]
        itype = self.ask_choice(
            "Instance type",
            [(f"{o.instance_type}  {o.price.label()}", o.instance_type) for o in options],
            current.instance_type if current else notebooks.DEFAULT_TYPE,
        )
        notebook.keep_settings(self.state, notebooks.NotebookSpec(name, self.state.role_arn, itype))
        return True

    def ask_data(self) -> bool:
        from services.flow import data
        from services.s3uri import is_s3_uri

        chosen = data.choices_from_state(self.state)
        source = self.ask_text(
            "Copy images from (an s3:// prefix or a local folder)",
            chosen.source or data.default_source(self.ctx),
        )
        dest = self.ask_text("Into", chosen.prefix, lambda t: is_s3_uri(t.strip()) or "Give an s3:// prefix.")
        data.keep_settings(self.state, source, dest)
        return True

    def ask_labels(self) -> bool:
        from services.labeling.rules import check_job_name, check_labels, documented_lambdas

        st = self.state
        how = self.ask_choice(
            "Labels",
            [
                ("Start a Ground Truth labeling job", "job"),
                ("Skip: train on classes derived from the images", "skip"),
            ],
            "job" if st.labeling_job else "skip",
        )
        if how == "skip":
            return False

        def labels_ok(text: str) -> bool | str:
            try:
                check_labels([t.strip() for t in text.split(",")])
            except ValidationError as exc:
                return f"{exc.message} {exc.advice(Face.PLAIN)}"
            return True

        def job_ok(text: str) -> bool | str:
            try:
                check_job_name(text)
            except ValidationError as exc:
                return f"{exc.message} {exc.advice(Face.PLAIN)}"
            return True

        from services.labeling.request import JobSpec

        text = self.ask_text("Labels, separated by commas", ", ".join(st.labels), labels_ok)
        job = self.ask_text("Labeling job name", st.labeling_job or JobSpec.job_name, job_ok)
        st.update(labels=[t.strip() for t in text.split(",")], labeling_job=job)
        s = st.extra.setdefault("labels", {})
        s["workforce"] = self.ask_choice(
            "Who labels the images?",
            [
                ("Amazon Mechanical Turk (public, paid per task)", "public"),
                ("A private work team", "private"),
            ],
            s.get("workforce", "public"),
        )
        if documented_lambdas(self.ctx.region) is None:
            self.say(
                f"AWS documents no Ground Truth pre-annotation/consolidation Lambdas for {self.ctx.region}."
            )
            s["pre_annotation_lambda"] = self.ask_text(
                "Pre-annotation Lambda ARN", s.get("pre_annotation_lambda", "")
            )
            s["consolidation_lambda"] = self.ask_text(
                "Consolidation Lambda ARN", s.get("consolidation_lambda", "")
            )
        if s["workforce"] == "private":
            s["team_arn"] = self.ask_text("Work team ARN", s.get("team_arn", ""))
            return True
        s["free_of_pii"] = self.ask_yes("Are the images free of personally identifiable information?", False)
        s["free_of_adult_content"] = self.ask_yes("Are the images free of adult content?", False)
        s["acknowledged"] = self.ask_yes(
            "Mechanical Turk workers are contractors worldwide; do not share confidential data. Accept?",
            False,
        )
        return True

    def ask_train(self) -> bool:
        from services.algorithms import get
        from services.flow import train
        from services.sagemaker_model import NameShape, name_rule
        from services.training import TRAINING_INSTANCE_TYPES, default_job_name

        st = self.state
        s = st.extra.setdefault("training", {})
        algo = self.ask_choice(
            "Algorithm",
            [("XGBoost on features derived from the images (CSV)", train.XGBOOST),
             ("Image classification on the labeled manifest", train.IMAGE_CLASSIFICATION)],
            s.get("algorithm", train.DEFAULT_ALGORITHM),
        )  # fmt: skip
        if algo == train.IMAGE_CLASSIFICATION and not st.output_manifest:
            self.say(
                "Image classification needs the labeling job's output manifest; finish the Labels step first."
            )
            return False
        itype = self.ask_choice(
            "Instance type",
            [(t, t) for t in TRAINING_INSTANCE_TYPES],
            s.get("instance_type") or train.default_instance_type(algo),
        )
        from services.data_split import DEFAULT_VALIDATION_FRACTION, fraction_problem, parse_fraction

        def share_ok(t: str) -> bool | str:
            f = parse_fraction(t.strip() + "%")
            return "A percentage, e.g. 20." if f is None else (fraction_problem(f) or True)

        share = self.ask_text(
            "Validation share (%): held out from each class, never trained on",
            f"{float(s.get('validation_fraction', DEFAULT_VALIDATION_FRACTION)) * 100:g}",
            share_ok,
        )
        s["validation_fraction"] = parse_fraction(share.strip() + "%") or DEFAULT_VALIDATION_FRACTION
        name = self.ask_text(
            "Training job name",
            st.training_job or default_job_name(algo),
            lambda t: (
                name_rule(NameShape.TRAINING_JOB).matches(t.strip())
                or f"Letters, digits and hyphens; at most {name_rule(NameShape.TRAINING_JOB).max_length}."
            ),
        )
        spec = get(algo)
        hp = train.default_hyperparameters(algo, st)
        hp.update({k: str(v) for k, v in (s.get("hyperparameters") or {}).items()})
        if self.ask_yes("Review the hyperparameters?", default=False):
            for p in spec.hyperparameters:
                if p.name == "num_training_samples":
                    self.say("num_training_samples: counted from the split of the labeled manifest")
                    continue
                if p.name not in hp and not p.required:
                    continue
                hp[p.name] = self.ask_text(
                    f"{p.name} ({p.range_text()}): {p.description}",
                    hp.get(p.name, p.default or ""),
                    lambda t, p=p: (p.check(t.strip()) or True) if t.strip() else True,
                )
        s.update(algorithm=algo, instance_type=itype, hyperparameters={k: v for k, v in hp.items() if v})
        st.update(training_job=name)
        return True

    def ask_tune(self) -> bool:
        from services.flow import tune

        st = self.state
        if not st.training_job:
            self.say("Tuning starts from a training job; run the Train step first.")
            return False
        s = st.extra.setdefault("tuning", {})
        s["strategy"] = self.ask_choice(
            "Search strategy", [(x, x) for x in tune.STRATEGIES], s.get("strategy", tune.DEFAULT_STRATEGY)
        )

        def whole(t: str) -> bool | str:
            return (t.strip().isdigit() and int(t) >= 1) or "A whole number, at least 1."

        s["max_jobs"] = int(
            self.ask_text("Training jobs in total", str(s.get("max_jobs", tune.DEFAULT_MAX_JOBS)), whole)
        )
        s["max_parallel_jobs"] = int(
            self.ask_text(
                "At the same time", str(s.get("max_parallel_jobs", tune.DEFAULT_MAX_PARALLEL)), whole
            )
        )
        name = st.tuning_job or tune.default_name(st.training_job)
        st.update(tuning_job=self.ask_text(f"Tuning job name (at most {tune.NAME_MAX} characters)", name))
        self._ask_warm_start(s)
        return True

    def _ask_warm_start(self, s: dict[str, Any]) -> None:
        """Offer the finished tuning jobs of the same algorithm as a start (asked only when one exists)."""
        from services.flow import tune

        choices = tune.choices_from_state(self.state)
        offers = tune.warm_start_offers(self.ctx, choices) if choices is not None else []
        if not offers:
            return
        # "" stands for no parent: a tuning job name is never empty.
        options = [("none", "")] + [(o.parent.label(), o.parent.name) for o in offers]
        kept = (s.get("warm_start") or {}).get("parents") or [""]
        picked = self.ask_choice("Warm start from", options, str(kept[0]))
        offer = next((o for o in offers if o.parent.name == picked), None)
        if offer is None:
            s.pop("warm_start", None)
            return
        self.say(f"{offer.parent.label()}. Fits {offer.advice.text()}")
        kind = self.ask_choice("Warm start type", [(t, t) for t in tune.WARM_START_TYPES], offer.advice.type)
        s["warm_start"] = {"parents": [offer.parent.name], "type": kind}

    # -- clean up --------------------------------------------------------------------------------
    def cleanup(self) -> int:
        from services.flow import cleanup

        ctx = self.ctx
        inv = cleanup.inspect(ctx, self.state)
        for w in inv.warnings:
            self.say(f"note: {w}")
        if not inv.resources:
            self.say("Nothing sagewiz created is left here.")
            return EXIT_OK
        self.say(
            f"What sagewiz created here ({len(inv.resources)}), estimated cost now ~${inv.hourly:.3f}/h:"
        )
        for n, r in enumerate(inv.resources, 1):
            self.say(f"  {n}. {r.type.noun} {r.id}: {r.state or '?'}, {r.hourly_label()} [{r.source}]")
        what = self.ask_choice(
            "What now?",
            [("Keep everything", "keep"), ("Stop what runs", "stop"), ("Delete everything", "all"),
             ("Choose what to delete", "some")],
            "keep",
        )  # fmt: skip
        if what == "keep":
            return EXIT_OK
        chosen = list(inv.resources)
        if what == "some":
            import questionary

            chosen = list(
                questionary.checkbox(
                    "Select (space) and press Enter",
                    choices=[questionary.Choice(f"{r.type.noun} {r.id}", r) for r in inv.resources],
                ).unsafe_ask()
                or []
            )
        action = cleanup.CleanupAction.STOP if what == "stop" else cleanup.CleanupAction.DELETE
        cplan = cleanup.plan(ctx, self.state, cleanup.CleanupChoices(action, tuple(chosen)))
        self.say(cplan.render_text())
        if cplan.requests is None:
            self.say("Nothing to do.")
            return EXIT_OK
        verb = action.value
        self.say(f"This changes {ctx.where()}.")
        typed = self.ask_text(f"Type {verb} to confirm (anything else cancels)")
        if typed != verb:
            self.say("Cancelled; nothing was changed.")
            return EXIT_OK
        confirmed = []
        for bucket in cplan.buckets:
            self.say(
                f"Bucket {bucket}: every object and every version in it will be deleted. This cannot be undone."
            )
            if self.ask_text(f"Type the bucket name ({bucket}) to empty and delete it") == bucket:
                confirmed.append(bucket)
            else:
                self.say("Not confirmed; nothing was changed.")
                return EXIT_OK
        total = len(cplan.requests.actions)

        def progress(n: int, action: Any) -> None:
            self.say(f"  {n + 1}/{total} {action.description}")

        try:
            cleanup.apply(ctx, cplan, confirmed_buckets=confirmed, on_progress=progress)
        except SagewizError as err:
            self.say(f"Stopped: {err.title}: {err.message}. What was done is in the journal.")
            return EXIT_FAIL
        except Exception as exc:
            info = translate(exc)
            self.say(f"Stopped: {info.title}: {info.message}. What was done is in the journal.")
            return EXIT_FAIL
        running = cleanup.inspect(ctx, self.state).running
        self.say(
            "Done. "
            + ("Nothing sagewiz started is running." if not running else f"{len(running)} still running.")
        )
        return EXIT_OK
