"""`sagewiz export FILE` and `sagewiz apply FILE [--dry-run] [--yes]`, and the step flow they share
with `sagewiz --plain`.

`Flow` walks the wizard's steps without a screen. Each step reads what exists, plans only what is
missing (the same services and plans as the TUI), shows the plan, asks `confirm`, applies and
journals. A step whose state already matches plans nothing, which is what makes a second `apply`
change nothing and say so. This module must not import textual.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from services.errors import SagewizError, ValidationError, translate
from services.journal import Journal
from services.journal_events import SessionStarted
from services.state import WizardState

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
STEP_ORDER = ("bucket", "role", "notebook", "data", "permissions", "labels", "train", "tune")
SAMPLE_SOURCE = "s3://sagemaker-sample-files/datasets/image/caltech-101/inference/"

Confirm = Callable[[str, str], bool]  # (title, plan text) -> go ahead?


@dataclass
class StepOutcome:
    step: str
    status: str  # unchanged | changed | planned | waiting | skipped | unavailable | declined | failed
    message: str

    @property
    def changed(self) -> bool:
        return self.status == "changed"


@dataclass
class Flow:
    """The wizard's steps for scripts and plain prompts: read, plan what is missing, confirm, apply."""

    factory: Any
    identity: Any
    journal: Journal
    state: WizardState
    confirm: Confirm
    out: TextIO = field(default_factory=lambda: sys.stdout)
    dry_run: bool = False
    world: Any = None
    _snapshot: dict[str, Any] | None = field(default=None, repr=False)
    _planned: bool = field(default=False, repr=False)

    # -- plumbing ------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    @property
    def region(self) -> str:
        return str(self.identity.region)

    @property
    def account(self) -> str:
        return str(self.identity.account)

    def settings(self, step: str) -> dict[str, Any]:
        value = self.state.extra.get(step)
        if not isinstance(value, dict):
            value = {}
            self.state.extra[step] = value
        return value

    def where(self) -> str:
        sandbox = " (SANDBOX)" if self.identity.sandbox else ""
        return f"account {self.identity.account} in {self.identity.region}{sandbox}, acting as {self.identity.arn}"

    def _go(self, step: str, title: str, text: str) -> StepOutcome | None:
        """Show a plan; None means go ahead, else the outcome that ends the step."""
        self.say(text)
        if self.dry_run:
            return StepOutcome(step, "planned", f"{title}: planned (dry run, nothing changed)")
        if not self.confirm(title, text):
            return StepOutcome(step, "declined", f"{title}: not applied (declined)")
        return None

    def remember(self, **choices: Any) -> None:
        self.state.update(**choices)

    def journal_choices(self) -> None:
        """Journal what changed in the choices since the last call (all of them the first time), so
        `sagewiz export` and resume find them even if the run stops at the next step."""
        if self.dry_run:
            return
        from services.resume import journal_choices

        try:
            self._snapshot = journal_choices(self.journal, self.state, self._snapshot)
        except (OSError, ValueError) as exc:
            self.say(f"note: the journal could not be written ({exc})")

    def run(self, steps: tuple[str, ...] = STEP_ORDER) -> list[StepOutcome]:
        outcomes = []
        for name in steps:
            outcome = self.run_step(name)
            outcomes.append(outcome)
            if outcome.status == "failed":
                break
        return outcomes

    def run_step(self, name: str) -> StepOutcome:
        self.say(f"\n== {name} ==")
        try:
            step: Callable[[], StepOutcome] = getattr(self, f"step_{name}")
            outcome = step()
        except ImportError as exc:
            outcome = StepOutcome(
                name, "unavailable", f"the {name} step is not available in this version ({exc.name})"
            )
        except SagewizError as err:
            if self.dry_run and self._planned:
                # It reads what an earlier planned step would have made (the bucket, the images).
                outcome = StepOutcome(
                    name, "planned", f"planned once the earlier steps have run (now: {err.title.lower()})"
                )
            else:
                outcome = StepOutcome(name, "failed", _error_line(err))
        except Exception as exc:  # a person gets a sentence, not a traceback
            outcome = StepOutcome(name, "failed", _error_line(translate(exc)))
        self.say(f"-> {outcome.message}")
        self._planned = self._planned or outcome.status == "planned"
        self.journal_choices()
        return outcome

    # -- steps ---------------------------------------------------------------------------------
    def step_bucket(self) -> StepOutcome:
        from services.buckets import (
            BucketStatus,
            check_bucket,
            create_bucket,
            create_plan,
            expected_bucket_name,
        )

        name = self.state.bucket or expected_bucket_name(self.region, self.account)
        check = check_bucket(self.factory, name, self.account)
        if check.usable:
            self.remember(bucket=name)
            return StepOutcome("bucket", "unchanged", f"bucket {name} exists and belongs to this account")
        if check.status is not BucketStatus.MISSING:
            raise SagewizError(f"Bucket {name} cannot be used", check.problem or check.ownership_evidence)
        plan = create_plan(name, self.region, self.account)
        stop = self._go("bucket", f"Create bucket {name}", plan.render_text())
        if stop:
            return stop
        create_bucket(self.factory, plan, self.journal)
        self.remember(bucket=name)
        return StepOutcome("bucket", "changed", f"bucket {name} created")

    def step_role(self) -> StepOutcome:
        from services.roles import RoleSpec, check_role_assumable, plan_create_role

        arn = self.state.role_arn
        if not arn:
            if self.world is not None:  # the sandbox's execution role, as the Notebook step offers
                self.remember(role_arn=self.world.role_arn)
                return StepOutcome(
                    "role", "unchanged", f"using the sandbox's execution role {self.world.role_arn}"
                )
            return StepOutcome("role", "skipped", "no execution role chosen")
        try:
            check_role_assumable(self.factory, arn)
            return StepOutcome("role", "unchanged", f"role {arn} exists and SageMaker can assume it")
        except ValidationError as err:
            if "does not exist" not in err.message:
                raise
        if not self.state.bucket:
            raise ValidationError("bucket", "the role's policy is scoped to the bucket, and none is chosen")
        # Scoped to the bucket (not the image prefix): labeling and training write beside the images.
        spec = RoleSpec(arn.rsplit("/", 1)[-1], self.account, self.region, self.state.bucket, None)
        plan = plan_create_role(spec)
        stop = self._go("role", f"Create role {spec.name}", plan.render_text())
        if stop:
            return stop
        from services.plan import apply_plan

        apply_plan(plan, self.factory, self.journal)
        self.remember(role_arn=spec.arn)
        return StepOutcome(
            "role", "changed", f"role {spec.arn} created (least privilege, scoped to the bucket)"
        )

    def step_notebook(self) -> StepOutcome:
        from services import notebooks

        name = self.state.notebook_name
        if not name:
            return StepOutcome("notebook", "skipped", "no notebook instance chosen")
        if notebooks.notebook_exists(self.factory, name):
            info = notebooks.describe_notebook(self.factory, name)
            return StepOutcome("notebook", "unchanged", f"notebook {name} exists ({info.status})")
        s = self.settings("notebook")
        kw = {k: s[k] for k in ("instance_type", "volume_gb", "platform", "idle_minutes") if k in s}
        spec = notebooks.NotebookSpec(name=name, role_arn=self.state.role_arn, **kw)
        plan = notebooks.plan_create_notebook(spec, self.region)
        stop = self._go("notebook", f"Create notebook {name}", plan.render_text())
        if stop:
            return stop
        notebooks.apply(plan, self.factory, self.journal, name)
        return StepOutcome(
            "notebook", "changed", f"notebook {name} created (it takes a few minutes to be InService)"
        )

    def step_data(self) -> StepOutcome:
        from services.sync import parse_destination, parse_source, plan_sync, run_sync

        if not self.state.bucket:
            return StepOutcome("data", "skipped", "no bucket chosen")
        prefix = self.state.images_prefix()
        s = self.settings("data")
        source_text = s.get("source") or (
            f"s3://{self.world.sample_bucket}/{self.world.sample_prefix}"
            if self.world is not None
            else SAMPLE_SOURCE
        )
        source, dest = parse_source(source_text), parse_destination(prefix)
        if self.dry_run and not _bucket_exists(self.factory, dest.bucket):
            self.say(f"Sync {source_text} -> {prefix} (after the bucket is created)")
            return StepOutcome("data", "planned", "copy planned after the bucket exists (dry run)")
        plan = plan_sync(self.factory, source, dest, account=self.account)
        if plan.nothing_to_do:
            self.remember(data_prefix=prefix)
            s["source"] = source_text
            return StepOutcome("data", "unchanged", f"all {len(plan.skipped)} files are already in {prefix}")
        stop = self._go("data", f"Copy {len(plan.to_copy)} files to {prefix}", plan.render_text())
        if stop:
            return stop
        result = run_sync(self.factory, plan, account=self.account)
        if not result.ok:
            first = result.failed[0] if result.failed else None
            raise SagewizError(
                "The copy did not finish",
                f"{len(result.failed)} files failed"
                + (f"; first: {first.rel}: {first.reason}" if first else ""),
                "Run it again: unchanged files are skipped.",
            )
        self.remember(data_prefix=prefix)
        s["source"] = source_text
        return StepOutcome("data", "changed", f"{result.copied} files copied to {prefix}")

    def step_permissions(self) -> StepOutcome:
        from services.permissions.apply import apply_change, to_plan
        from services.permissions.findings import check, proposed_changes
        from services.permissions.state import read_state

        if not (self.state.bucket and self.state.role_arn):
            return StepOutcome("permissions", "skipped", "needs a bucket and an execution role")
        if self.dry_run and not _bucket_exists(self.factory, self.state.bucket):
            return StepOutcome("permissions", "planned", "checked after the bucket exists (dry run)")
        # Like the Permissions step: the whole bucket, since labeling and training write beside the images.
        prefix = None
        applied = 0
        for _round in range(4):  # each fix re-reads the state: a later fix sees the earlier one
            pstate = read_state(
                self.factory,
                account=self.account,
                region=self.region,
                bucket=self.state.bucket,
                role_arn=self.state.role_arn,
                prefix=prefix,
            )
            offered = proposed_changes(pstate, check(pstate), sandbox=self.identity.sandbox)
            if _round == 0:
                for p in offered:
                    if p.refused:
                        self.say(f"not proposed: {p.title}: {p.refused}")
            proposals = [(p.title, p.change) for p in offered if p.change is not None]
            if not proposals:
                break
            title, change = proposals[0]
            stop = self._go("permissions", title, to_plan(change).render_text())
            if stop:
                return stop
            apply_change(self.factory, self.journal, change)
            applied += 1
        if applied:
            return StepOutcome(
                "permissions", "changed", f"{applied} policy changes applied (backed up in the journal)"
            )
        return StepOutcome("permissions", "unchanged", "the role can use the bucket; no change needed")

    def step_labels(self) -> StepOutcome:
        from services.labeling.request import PUBLIC, JobSpec, Workforce, check_spec
        from services.labeling.setup import build_setup_plan

        manifest = self.state.output_manifest
        if manifest and _object_exists(self.factory, manifest):
            return StepOutcome("labels", "unchanged", f"labels are in {manifest}")
        job = self.state.labeling_job
        if not job:
            return StepOutcome(
                "labels", "skipped", "no labeling job chosen (label in the wizard, or import a manifest)"
            )
        sm = self.factory.client("sagemaker")
        try:
            d = sm.describe_labeling_job(LabelingJobName=job)
            out = ((d.get("LabelingJobOutput") or {}).get("OutputDatasetS3Uri")) or ""
            if out:
                self.remember(output_manifest=out)
            return StepOutcome(
                "labels", "unchanged", f"labeling job {job} exists ({d.get('LabelingJobStatus')})"
            )
        except Exception as exc:
            from services.errors import is_gone as _is_gone

            if not _is_gone(exc):
                raise translate(exc, "sagemaker:DescribeLabelingJob") from exc
        s = self.settings("labels")
        workforce = Workforce(
            kind=str(s.get("workforce", PUBLIC)),
            price_mills=int(s.get("price_mills", 12)),
            free_of_pii=bool(s.get("free_of_pii", False)),
            free_of_adult_content=bool(s.get("free_of_adult_content", False)),
            acknowledged=bool(s.get("acknowledged", False)),
            team_arn=str(s.get("team_arn", "")),
        )
        spec = JobSpec(
            region=self.region,
            role_arn=self.state.role_arn,
            job_name=job,
            label_attribute=s.get("label_attribute") or job,
            labels=tuple(self.state.labels),
            workforce=workforce,
            lambdas=_lambdas(s, self.region),
        )
        try:
            check_spec(spec)
        except ValidationError as err:
            raise ValidationError(
                err.field,
                err.message,
                f'{err.hint} In a configuration file, under [labels]: workforce = "public" with free_of_pii, '
                'free_of_adult_content and acknowledged = true, or workforce = "private" with team_arn; '
                "pre_annotation_lambda and consolidation_lambda where AWS documents none for the region.",
            ) from err
        if self.dry_run and not _bucket_exists(self.factory, self.state.bucket):
            return StepOutcome(
                "labels", "planned", f"labeling job {job} planned after the data is copied (dry run)"
            )
        setup = build_setup_plan(self.factory, spec, self.state.data_prefix)
        stop = self._go("labels", f"Start labeling job {job}", setup.plan.render_text())
        if stop:
            return stop
        from services.plan import apply_plan

        apply_plan(setup.plan, self.factory, self.journal)
        from services.labeling.manifest import output_manifest_uri

        self.remember(output_manifest=output_manifest_uri(setup.locations.output_path, job))
        return StepOutcome("labels", "changed", f"labeling job {job} started")

    def step_train(self) -> StepOutcome:
        from services import training

        s = self.settings("training")
        name = self.state.training_job
        if not name and not s:
            return StepOutcome("train", "skipped", "no training job chosen")
        if name:
            status = _job_status(self.factory, "training", name)
            if status:
                return StepOutcome("train", "unchanged", f"training job {name} exists ({status})")
        algo = s.get("algorithm", "xgboost")
        name = name or training.default_job_name(algo)
        bucket = self.state.bucket
        manifest = self.state.output_manifest
        if manifest and not _object_exists(self.factory, manifest):
            if self.state.labeling_job and not self.dry_run:
                return StepOutcome(
                    "train", "waiting",
                    f"waits for labeling job {self.state.labeling_job} to finish (no output manifest yet); "
                    "run apply again once it has",
                )  # fmt: skip
            manifest = ""
        hp = training.seed_hyperparameters(len(self.state.labels) or 5) if algo == "xgboost" else {}
        hp.update({k: str(v) for k, v in (s.get("hyperparameters") or {}).items()})
        channels = s.get("channels") or {}
        if not channels and algo == "xgboost":
            dest = f"s3://{bucket}/sagewiz/xgboost/"
            if self.dry_run:
                self.say(
                    f"Derive a CSV dataset (27 image features) from {self.state.data_prefix} into {dest}"
                )
                channels = {"train": f"{dest}train/", "validation": f"{dest}validation/"}
            else:
                ds = training.tabular_from_images(
                    self.factory,
                    self.state.data_prefix,
                    dest,
                    manifest,
                    tuple(self.state.labels),
                )
                channels = {"train": ds.train_uri, "validation": ds.validation_uri}
                self.say(f"derived {ds.rows} rows from the images; labels from {ds.label_source}")
        if algo == "image-classification":
            attr = self.settings("labels").get("label_attribute") or self.state.labeling_job or "label"
            chans = tuple(
                training.ChannelInput(n, u, "application/x-recordio", "AugmentedManifestFile", ("source-ref", attr), "Pipe", "RecordIO")
                for n, u in channels.items()
            )  # fmt: skip
        else:
            chans = tuple(training.ChannelInput(n, u, "text/csv") for n, u in channels.items())
        cfg = training.TrainingConfig(
            job_name=name,
            algorithm_id=algo,
            role_arn=self.state.role_arn,
            channels=chans,
            hyperparameters=hp,
            output_path=s.get("output_path") or f"s3://{bucket}/sagewiz/output",
            image_uri=training.image_uri(algo, self.region),
            instance_type=s.get("instance_type", "ml.m5.xlarge"),
            instance_count=int(s.get("instance_count", 1)),
            volume_gb=int(s.get("volume_gb", 10)),
            max_runtime_s=int(s.get("max_runtime_seconds", 3600)),
            input_mode="Pipe" if algo == "image-classification" else "File",
        )
        plan = training.plan_training(cfg, self.region)
        stop = self._go("train", f"Start training job {name}", plan.render_text())
        if stop:
            return stop
        training.create(self.factory, self.journal, plan)
        s.update(algorithm=algo, instance_type=cfg.instance_type, hyperparameters=hp, channels=channels)
        self.remember(training_job=name)
        return StepOutcome("train", "changed", f"training job {name} started")

    def step_tune(self) -> StepOutcome:
        from services.tuning import request as tuning
        from services.tuning.catalog import catalog_for
        from services.tuning.config import TuningConfig
        from services.tuning.ranges import ParameterRange

        s = self.settings("tuning")
        name = self.state.tuning_job
        if not name and not s:
            return StepOutcome("tune", "skipped", "no tuning job chosen")
        if name:
            status = _job_status(self.factory, "tuning", name)
            if status:
                return StepOutcome("tune", "unchanged", f"tuning job {name} exists ({status})")
        if not self.state.training_job:
            return StepOutcome("tune", "skipped", "tuning starts from a training job; none is chosen")
        if not _job_status(self.factory, "training", self.state.training_job):
            if self.dry_run:
                return StepOutcome(
                    "tune", "planned", f"tuning job {name} planned after training starts (dry run)"
                )
            return StepOutcome(
                "tune",
                "waiting",
                f"waits for training job {self.state.training_job}; run apply again once it exists",
            )
        base = tuning.load_base(self.factory, self.state.training_job)
        algo = self.settings("training").get("algorithm", "xgboost")
        catalog = catalog_for(algo, base.static_hyperparameters)
        ranges = []
        for rname, r in (s.get("ranges") or {}).items():
            spec = catalog.spec(rname)
            kind = r.get("kind") or (
                spec.kind if spec else ("Categorical" if "values" in r else "Continuous")
            )
            ranges.append(
                ParameterRange(rname, kind, str(r.get("min", "")), str(r.get("max", "")), r.get("scaling", "Auto"),
                               tuple(str(v) for v in r.get("values", ())), spec.bounds if spec else None)
            )  # fmt: skip
        if not ranges:
            ranges = [t.default_range() for t in catalog.tunable if t.suggested]
        objective = s.get("objective") or catalog.objectives[0].metric
        obj = catalog.objective(objective)
        cfg = TuningConfig(
            name=name or f"tune-{self.state.training_job}"[:32].rstrip("-"),
            base=base,
            ranges=tuple(ranges),
            objective_metric=objective,
            objective_type=s.get("objective_type") or (obj.direction if obj else "Minimize"),
            strategy=s.get("strategy", "Bayesian"),
            max_jobs=int(s.get("max_jobs", 4)),
            max_parallel=int(s.get("max_parallel_jobs", 2)),
            early_stopping=bool(s.get("early_stopping", False)),
        )
        plan = tuning.build_plan(cfg, self.region)
        stop = self._go("tune", f"Start tuning job {cfg.name}", plan.render_text())
        if stop:
            return stop
        tuning.create(cfg, self.factory, self.journal, self.region)
        s.update(
            strategy=cfg.strategy, max_jobs=cfg.max_jobs, max_parallel_jobs=cfg.max_parallel, objective=objective,
            ranges={r.name: _range_dict(r) for r in cfg.ranges},
        )  # fmt: skip
        self.remember(tuning_job=cfg.name)
        return StepOutcome("tune", "changed", f"tuning job {cfg.name} started")


# -- helpers -------------------------------------------------------------------------------------
def _error_line(err: SagewizError) -> str:
    line = f"{err.title}: {err.message}" if err.message else err.title
    return line + (f" (what to do: {err.hint})" if err.hint else "")


def _prefix_of(uri: str, bucket: str) -> str:
    return uri.removeprefix(f"s3://{bucket}/") if uri.startswith(f"s3://{bucket}/") else ""


def _bucket_exists(factory: Any, bucket: str) -> bool:
    try:
        factory.client("s3").head_bucket(Bucket=bucket)
        return True
    except Exception:
        return False


def _object_exists(factory: Any, uri: str) -> bool:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    try:
        factory.client("s3").head_object(Bucket=bucket, Key=key)
        return True
    except Exception:
        return False


def _job_status(factory: Any, kind: str, name: str) -> str:
    """The job's status, or "" when AWS does not know it."""
    sm = factory.client("sagemaker")
    try:
        if kind == "training":
            return str(sm.describe_training_job(TrainingJobName=name)["TrainingJobStatus"])
        d = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        return str(d["HyperParameterTuningJobStatus"])
    except Exception as exc:
        from services.errors import is_gone as _is_gone

        if _is_gone(exc):
            return ""
        raise translate(exc) from exc


def _lambdas(settings: dict[str, Any], region: str) -> Any:
    """The Lambda ARNs a configuration gives (needed where AWS documents none for the region)."""
    pre, cons = settings.get("pre_annotation_lambda"), settings.get("consolidation_lambda")
    if not (pre and cons):
        return None
    from services.labeling.rules import user_lambdas

    return user_lambdas(str(pre), str(cons), region)


def _range_dict(r: Any) -> dict[str, Any]:
    if r.values:
        return {"kind": r.kind, "values": list(r.values)}
    return {"kind": r.kind, "min": r.min_value, "max": r.max_value, "scaling": r.scaling}


def summary_line(outcomes: list[StepOutcome]) -> str:
    changed = [o for o in outcomes if o.changed]
    if any(o.status == "failed" for o in outcomes):
        return "Stopped at a failure; the journal lists everything done before it."
    waiting = [o.step for o in outcomes if o.status == "waiting"]
    later = (
        f" {', '.join(waiting)}: waiting for earlier work to finish; run apply again later."
        if waiting
        else ""
    )
    if not changed:
        planned = [o for o in outcomes if o.status == "planned"]
        if planned:
            return f"Dry run: {len(planned)} steps would change something; nothing was changed."
        if waiting:
            return "Nothing changed this time." + later
        return "Nothing to change: AWS already matches the configuration."
    return f"{len(changed)} steps changed something: " + ", ".join(o.step for o in changed) + "." + later


def exit_code(outcomes: list[StepOutcome]) -> int:
    if any(o.status == "failed" for o in outcomes):
        return EXIT_FAIL
    return EXIT_OK


# -- the commands --------------------------------------------------------------------------------
def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.command == "export":
        return run_export(args, out, err)
    return run_apply(args, out, err)


def run_export(args: argparse.Namespace, out: TextIO, err: TextIO, journal: Journal | None = None) -> int:
    """Write the newest session's choices (from the journal) as TOML; no AWS call."""
    from services.config_file import export
    from services.resume import latest_state

    journal = journal or Journal()
    found = latest_state(journal, sandbox=True if getattr(args, "sandbox", False) else None)
    if found is None:
        print(
            "sagewiz: the journal has no session with choices to export yet; run the wizard first.", file=err
        )
        return EXIT_USAGE
    state, at = found
    path = export(state, Path(args.file), note=f"from the session of {at[:16].replace('T', ' ')} UTC")
    where = f"{state.account} · {state.region}" + (" (sandbox)" if state.sandbox else "")
    print(f"Wrote {path}: the choices of the session of {at[:16].replace('T', ' ')} UTC ({where}).", file=out)
    print(f"Replay it with: sagewiz apply {path} --dry-run", file=out)
    return EXIT_OK


def run_apply(
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    *,
    confirm: Confirm | None = None,
    journal: Journal | None = None,
) -> int:
    from services.config_file import load
    from tui.commands.common import connect_from_args

    cfg = load(args.file)  # a ConfigError (exit 2) names the key and the line, before any AWS call
    if not (args.dry_run or args.yes) and confirm is None:
        if not (sys.stdin.isatty() and out.isatty()):
            print(
                "sagewiz: apply changes AWS without asking; add --yes to go ahead, or --dry-run to see the plans.",
                file=err,
            )
            return EXIT_USAGE
        confirm = _tty_confirm(out)
    ctx = connect_from_args(args)
    ident = ctx.identity
    if cfg.region and cfg.region != ident.region:
        raise ValidationError(
            "region",
            f"{args.file} is for {cfg.region}, but the connection is to {ident.region}",
            f"Add --region {cfg.region}.",
        )
    if cfg.account and cfg.account != ident.account and not ident.sandbox:
        raise ValidationError(
            "account", f"{args.file} is for account {cfg.account}, but the credentials are for {ident.account}",
            "Use a profile for that account, or remove `account` from the file.",
        )  # fmt: skip
    journal = journal or Journal()
    journal.bind(ident.account, ident.region, ident.sandbox)
    if not args.dry_run:
        journal.append(
            SessionStarted(caller=ident.arn, endpoint=ident.endpoint, sandbox=ident.sandbox, mode="apply")
        )
    state = WizardState(
        region=ident.region, account=ident.account, caller_arn=ident.arn, sandbox=ident.sandbox
    )
    cfg.to_state(state)
    state.update(region=ident.region, account=ident.account)
    flow = Flow(
        ctx.factory, ident, journal, state, confirm or (lambda _t, _p: True), out, args.dry_run, ctx.world
    )
    print(f"Applying {args.file} to {flow.where()}" + (" (dry run)" if args.dry_run else ""), file=out)
    outcomes = flow.run()
    print("\n" + summary_line(outcomes), file=out)
    for o in outcomes:
        if o.status == "failed":
            print(f"sagewiz: {o.step}: {o.message}", file=err)
    return exit_code(outcomes)


def _tty_confirm(out: TextIO) -> Confirm:
    def ask(title: str, _text: str) -> bool:
        try:
            answer = input(f"{title}: apply? [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in {"y", "yes"}

    return ask
