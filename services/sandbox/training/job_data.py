"""The job's data, read and written as its execution role: credentials minted the way SageMaker
assumes the role, the input channels (prefixes, manifests, augmented manifests) downloaded from
the emulated S3, and the model artifact uploaded. A role that may not read or write fails the job
with the service's own wording."""

from __future__ import annotations

import io
import json
import re
import tarfile
import time
from typing import Any

from services.sandbox.training.host_logs import stamp
from services.sandbox.training.run import JobFailure, Run, find_role, live_job

_cred_cache: dict[tuple[int, str, str], Any] = {}


def role_credentials(run: Run) -> Any:
    """Credentials of the execution role, minted the way SageMaker assumes it."""
    from services.session import StaticCredentials

    role_arn = run.request["RoleArn"]
    key = (run.generation, run.account, role_arn)
    cached = _cred_cache.get(key)
    if cached is not None:
        return cached
    if find_role(run.account, role_arn) is None:
        raise JobFailure(f"ClientError: SageMaker was unable to assume the role {role_arn}. The role may have been deleted.")  # fmt: skip
    from moto.sts.models import sts_backends

    backend = None
    for part in ("aws", "global"):
        try:
            backend = sts_backends[run.account][part]
            break
        except KeyError:
            continue
    if backend is None:
        raise JobFailure("InternalServerError: the sandbox could not assume the execution role.")
    # moto annotates policy and external_id as str, yet its own STS handler passes None for absent ones.
    assumed = backend.assume_role(
        region_name=run.region, role_session_name="SageMaker", role_arn=role_arn, duration=43200,
        policy=None, external_id=None,  # type: ignore[arg-type]
    )  # fmt: skip
    creds = StaticCredentials(assumed.access_key_id, assumed.secret_access_key, assumed.session_token)
    _cred_cache[key] = creds
    return creds


def role_s3(run: Run, creds: Any) -> Any:
    from services.sandbox.world import serving_endpoint
    from services.session import AwsTarget, SessionFactory

    target = AwsTarget(region=run.region, endpoint_url=serving_endpoint(), credentials=creds, sandbox=True)
    return SessionFactory(target).client("s3")


def split_s3_uri(uri: str) -> tuple[str, str]:
    rest = uri[len("s3://") :] if uri.startswith("s3://") else uri
    bucket, _, key = rest.partition("/")
    return bucket, key


def error_code(exc: Exception) -> str:
    resp = getattr(exc, "response", None) or {}
    code = str((resp.get("Error") or {}).get("Code") or type(exc).__name__)
    msg = str((resp.get("Error") or {}).get("Message") or "")
    if "<Code>" in msg:  # moto's XML body inside a JSON error
        m = re.search(r"<Code>([^<]+)</Code>", msg)
        code = m.group(1) if m else code
    if code in ("403", "Forbidden"):
        code = "AccessDenied"
    return code


def download_channels(run: Run, creds: Any, algo: str) -> dict[str, list[tuple[str, bytes]]]:
    """{channel: [(s3 uri, bytes)]} read as the role; failures are worded like the service's."""
    s3 = role_s3(run, creds)
    out: dict[str, list[tuple[str, bytes]]] = {}
    for ch in run.request.get("InputDataConfig") or []:
        name = ch.get("ChannelName", "")
        src = (ch.get("DataSource") or {}).get("S3DataSource") or {}
        uri, kind = str(src.get("S3Uri") or ""), src.get("S3DataType", "S3Prefix")
        bucket, prefix = split_s3_uri(uri)
        objects: list[tuple[str, bytes]] = []
        if kind == "S3Prefix":
            keys: list[str] = []
            try:
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                    keys.extend(o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/"))
            except Exception as exc:
                code = error_code(exc)
                if code not in ("AccessDenied", "NoSuchBucket"):
                    raise JobFailure(f"ClientError: Data download failed:Unable to list s3://{bucket}/{prefix} ({code})") from exc  # fmt: skip
            if not keys:
                raise JobFailure(
                    f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data source. Please '
                    f"ensure that the bucket exists in the selected region ({run.region}), that objects exist "
                    f'under that S3 prefix, and that the role "{run.request["RoleArn"]}" has "s3:ListBucket" '
                    f'permissions on bucket "{bucket}".'
                )
        else:  # ManifestFile / AugmentedManifestFile: the manifest itself is the input
            keys = [prefix]
        for key in keys:
            objects.append((f"s3://{bucket}/{key}", get_object(s3, bucket, key)))
        if kind == "AugmentedManifestFile":
            objects = resolve_manifest(s3, objects[0][1], src.get("AttributeNames") or [])
        out[name] = objects
        run.log(f"[{stamp()}:INFO] Channel {name}: {len(objects)} object(s) from {uri}")
    if "train" not in out:
        raise JobFailure("ClientError: Unable to find a 'train' channel. Please provide a train channel.")
    return out


def get_object(s3: Any, bucket: str, key: str) -> bytes:
    try:
        body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as exc:
        raise JobFailure(
            f"ClientError: Data download failed:Unable to download object s3://{bucket}/{key} "
            f"({error_code(exc)}: {'Access Denied' if error_code(exc) == 'AccessDenied' else 'Not Found'})"
        ) from exc
    return body


def resolve_manifest(s3: Any, manifest: bytes, attributes: list[str]) -> list[tuple[str, bytes]]:
    """Augmented manifest lines -> [(label json, image bytes)]: the record the algorithm reads."""
    if len(attributes) < 2:
        raise JobFailure(
            "ClientError: AttributeNames must name the image (source-ref) and the label attribute."
        )
    src_attr, label_attr = attributes[0], attributes[1]
    out = []
    for n, raw in enumerate(manifest.decode("utf-8", "replace").splitlines(), 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw)
        except ValueError as exc:
            raise JobFailure(
                f"ClientError: Unable to parse line {n} of the augmented manifest as JSON."
            ) from exc
        if src_attr not in rec or label_attr not in rec:
            missing = src_attr if src_attr not in rec else label_attr
            raise JobFailure(
                f"ClientError: Attribute '{missing}' not found in line {n} of the augmented manifest."
            )
        bucket, key = split_s3_uri(str(rec[src_attr]))
        out.append((json.dumps(rec[label_attr]), get_object(s3, bucket, key)))
    return out


def upload_model(run: Run, creds: Any, files: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(body))
    out = str((run.request.get("OutputDataConfig") or {}).get("S3OutputPath") or "").rstrip("/")
    uri = f"{out}/{run.name}/output/model.tar.gz"
    bucket, key = split_s3_uri(uri)
    try:
        role_s3(run, creds).put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
    except Exception as exc:
        code = error_code(exc)
        if code == "AccessDenied":
            raise JobFailure(
                f"ClientError: Failed to upload model artifact to {uri}: An error occurred (AccessDenied) when "
                "calling the PutObject operation: Access Denied. Please make sure the execution role has "
                "s3:PutObject permission on the output path."
            ) from exc
        raise JobFailure(f"ClientError: Failed to upload model artifact to {uri} ({code}).") from exc
    live_job(run).model_artifacts = {"S3ModelArtifacts": uri}
