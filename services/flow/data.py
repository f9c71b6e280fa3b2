"""The Data step: copy the images (a local folder or an s3:// prefix) into the bucket, only what is
missing or changed. Every call to the bucket names the account as its expected owner."""

from __future__ import annotations

from dataclasses import dataclass

from services.buckets.ownership import BucketCheck, BucketStatus, check_bucket
from services.errors import AccessDeniedError, NotFoundError, SagewizError
from services.flow.context import FlowContext
from services.flow.outcome import StepPlan, Verdict
from services.s3uri import S3Uri
from services.state import WizardState
from services.sync.engine import run_sync
from services.sync.hash_cache import HashCache
from services.sync.locations import Location, parse_destination, parse_source
from services.sync.plan import SyncPlan, plan_sync
from services.sync.preflight import check_destination

# The public sample the wizard copies by default outside the sandbox (the sandbox seeds its own).
SAMPLE_SOURCE = "s3://sagemaker-sample-files/datasets/image/caltech-101/inference/"


@dataclass(frozen=True)
class DataChoices:
    source: str = ""  # an s3:// prefix or a local folder; "" means the sample
    prefix: str = ""  # the s3:// destination; "" means the images' default folder in the bucket


@dataclass(frozen=True, kw_only=True)
class DataPlan(StepPlan):
    source_text: str = ""
    prefix: str = ""
    sync: SyncPlan | None = None  # what is copied and what is already there
    cache: HashCache | None = None  # the local files' hashes, kept across runs

    def render_text(self) -> str:
        return self.sync.render_text() if self.sync is not None else super().render_text()


def default_source(ctx: FlowContext) -> str:
    """The sample images: the sandbox's seeded copy there, AWS's public sample elsewhere."""
    if ctx.world is not None:
        return f"s3://{ctx.world.sample_bucket}/{ctx.world.sample_prefix}"
    return SAMPLE_SOURCE


def choices_from_state(state: WizardState) -> DataChoices:
    settings = state.extra.get("data")
    source = settings.get("source", "") if isinstance(settings, dict) else ""
    return DataChoices(source=str(source or ""), prefix=state.images_prefix())


def keep_settings(state: WizardState, source: str, prefix: str) -> None:
    """Write a face's answers where `choices_from_state` (and `sagewiz export`) read them."""
    state.extra.setdefault("data", {})["source"] = source
    state.update(data_prefix=prefix)


def plan(ctx: FlowContext, state: WizardState, choices: DataChoices) -> DataPlan:
    prefix = choices.prefix or state.images_prefix()
    if not prefix:
        return DataPlan(verdict=Verdict.SKIPPED, message="no bucket chosen")
    source_text = choices.source or default_source(ctx)
    return plan_locations(ctx, parse_source(source_text), parse_destination(prefix), source_text, prefix)


def _unusable(owner: BucketCheck, source_text: str, prefix: str) -> DataPlan:
    problem = SagewizError(f"Bucket {owner.name} cannot be used", owner.problem or owner.ownership_evidence)
    return DataPlan(
        verdict=Verdict.CANNOT, message=problem.title, problem=problem, source_text=source_text, prefix=prefix
    )


def plan_locations(
    ctx: FlowContext, source: Location, dest: S3Uri, source_text: str = "", prefix: str = ""
) -> DataPlan:
    """The plan for already parsed locations (a face that parsed them while the user typed)."""
    source_text = source_text or source.text
    prefix = prefix or dest.uri
    try:
        check_destination(ctx.factory, dest, ctx.account)
    except NotFoundError as err:
        return DataPlan(
            verdict=Verdict.AFTER_EARLIER,
            message="copy planned after the bucket exists",
            preview=f"Sync {source_text} -> {prefix} (after the bucket is created)",
            problem=err,
            source_text=source_text,
            prefix=prefix,
        )
    except AccessDeniedError:
        # S3 refuses every request naming this account as the expected owner of a bucket another
        # account owns: that is the squatting guard speaking, not a permission to fix.
        owner = check_bucket(ctx.factory, dest.bucket, ctx.account)
        if owner.status is BucketStatus.OTHER_ACCOUNT:
            return _unusable(owner, source_text, prefix)
        raise
    owner = check_bucket(ctx.factory, dest.bucket, ctx.account)
    if not owner.usable:  # the Bucket step's ownership check: never copy into another account's bucket
        return _unusable(owner, source_text, prefix)
    cache = HashCache.default()
    sync = plan_sync(ctx.factory, source, dest, cache=cache, account=ctx.account)
    if sync.nothing_to_do:
        return DataPlan(
            verdict=Verdict.UNCHANGED,
            message=f"all {len(sync.skipped)} files are already in {prefix}",
            source_text=source_text,
            prefix=prefix,
            sync=sync,
            cache=cache,
        )
    return DataPlan(
        verdict=Verdict.SEND,
        message=f"Copy {len(sync.to_copy)} files to {prefix}",
        source_text=source_text,
        prefix=prefix,
        sync=sync,
        cache=cache,
    )


def record(state: WizardState, plan: DataPlan) -> None:
    keep_settings(state, plan.source_text, plan.prefix)


def apply(ctx: FlowContext, state: WizardState, plan: DataPlan) -> str:
    assert plan.sync is not None
    result = run_sync(
        ctx.factory, plan.sync, account=ctx.account, principal_arn=ctx.caller_arn or None, cache=plan.cache
    )
    if not result.ok:
        first = result.failed[0] if result.failed else None
        raise SagewizError(
            "The copy did not finish",
            f"{len(result.failed)} files failed" + (f"; first: {first.rel}: {first.reason}" if first else ""),
            "Run it again: unchanged files are skipped.",
        )
    record(state, plan)
    return f"{result.copied} files copied to {plan.prefix}"
