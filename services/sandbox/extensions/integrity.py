"""S3 integrity as AWS has it: uploads are verified before they are stored, SSE-KMS ETags are no MD5s.

moto 5.2 stores whatever arrives: a wrong Content-MD5 or x-amz-checksum-* is accepted, so a test
could never see a corrupted upload refused; a checksum sent without x-amz-sdk-checksum-algorithm
is dropped instead of stored; and every ETag is the MD5 of the body, so code that trusts the ETag's
shape passes in the sandbox and fails in an SSE-KMS bucket. This extension makes the sandbox:

- verify PutObject and UploadPart bodies before anything is stored (the previous object stays):
  Content-MD5 (`InvalidDigest` when malformed, `BadDigest` when it differs) and one
  x-amz-checksum-<algorithm>, in a header or in an aws-chunked trailer (`InvalidRequest` when
  malformed, missing or more than one; `BadDigest` when it differs); an aws-chunked body shorter
  than its x-amz-decoded-content-length is `IncompleteBody`. Codes and messages are S3's.
- check what CompleteMultipartUpload is sent: a part checksum that differs from the stored part's
  is `InvalidPart`, a whole-object x-amz-checksum-<algorithm> that differs is `BadDigest`; the
  upload stays open and nothing is stored. Its answer carries the stored checksum and type.
- store the verified checksum, so HeadObject/GetObject with ChecksumMode=ENABLED return it (with
  its type; a composite one with its "-N") and ListObjectsV2 names its algorithm; CRC32C and
  CRC64NVME are computed correctly (services.sandbox.checksums), not as moto's CRC32 stand-in.
- give objects written with SSE-KMS (the request's x-amz-server-side-encryption or the bucket's
  default encryption, aws:kms or aws:kms:dsse) a random 32-hex ETag, fixed at write time, as AWS's
  is no MD5 of the body: the same on PutObject, HeadObject, GetObject and ListObjectsV2. Parts of an
  SSE-KMS multipart upload get one too, so the completed object's "<hex>-N" is no MD5 of part MD5s.

Not emulated: S3 stores a CRC64NVME for objects uploaded without any checksum; the sandbox stores
none for them (computing it in pure Python would slow every large upload).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import inspect
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from services.sandbox import checksums
from services.sandbox.extensions import wrap_method

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
_STASH = "_sagewiz_verified_checksum"
_CHECKSUM_PREFIX = "x-amz-checksum-"
_NOT_VALUES = {"x-amz-checksum-mode", "x-amz-checksum-type", "x-amz-checksum-algorithm"}

MD5_INVALID = "The Content-MD5 you specified is not valid."
MD5_MISMATCH = "The Content-MD5 you specified did not match what we received."
MULTIPLE = "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
ALGORITHM_WITHOUT_VALUE = (
    "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* "
    "or x-amz-trailer headers were found."
)
MALFORMED_TRAILER = (
    "The request contained trailing data that was not well-formed or did not conform to our published schema."
)
INCOMPLETE_BODY = "You did not provide the number of bytes specified by the Content-Length HTTP header."


def mismatch_message(algorithm: str) -> str:
    return f"The {algorithm.upper()} you specified did not match the calculated checksum."


def invalid_value_message(algorithm: str) -> str:
    return f"Value for x-amz-checksum-{algorithm.lower()} header is invalid."


class IntegrityError(Exception):
    """A request S3 refuses before storing anything: (code, message), HTTP 400."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def decode_aws_chunked(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """(payload, trailers) of an aws-chunked body: `<hex size>[;ext]\\r\\n<data>\\r\\n` ... `0\\r\\n`,
    then `name:value\\r\\n` trailer lines and a final `\\r\\n`. IntegrityError when not well-formed."""
    payload = bytearray()
    pos = 0
    while True:
        end = raw.find(b"\r\n", pos)
        if end < 0:
            raise IntegrityError("IncompleteBody", INCOMPLETE_BODY)
        size_text = raw[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError as exc:
            raise IntegrityError("InvalidRequest", MALFORMED_TRAILER) from exc
        pos = end + 2
        if size == 0:
            break
        if pos + size + 2 > len(raw):
            raise IntegrityError("IncompleteBody", INCOMPLETE_BODY)
        payload += raw[pos : pos + size]
        if raw[pos + size : pos + size + 2] != b"\r\n":
            raise IntegrityError("InvalidRequest", MALFORMED_TRAILER)
        pos += size + 2
    trailers: dict[str, str] = {}
    for line in raw[pos:].split(b"\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise IntegrityError("InvalidRequest", MALFORMED_TRAILER)
        trailers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return bytes(payload), trailers


def verify_upload(headers: Any, raw_body: bytes, body: bytes) -> tuple[str, str] | None:
    """Check an upload's body against what the request claims, as S3 does before storing it.

    `headers` is case-insensitive; `raw_body` is the body as sent (aws-chunked when it carries a
    trailer), `body` the payload. Returns (ALGORITHM, value) of the checksum to store, or None.
    Raises IntegrityError with S3's code and message.
    """
    payload = body
    trailers: dict[str, str] = {}
    trailer_names = [n.strip().lower() for n in (headers.get("x-amz-trailer") or "").split(",") if n.strip()]
    if trailer_names or "aws-chunked" in (headers.get("content-encoding") or "").lower():
        payload, trailers = decode_aws_chunked(raw_body)
        declared = headers.get("x-amz-decoded-content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) != len(payload):
            raise IntegrityError("IncompleteBody", INCOMPLETE_BODY)

    content_md5 = headers.get("content-md5")
    if content_md5 is not None:
        try:
            expected = base64.b64decode(content_md5, validate=True)
        except (binascii.Error, ValueError):
            expected = b""
        if len(expected) != 16:
            raise IntegrityError("InvalidDigest", MD5_INVALID)
        if hashlib.md5(payload, usedforsecurity=False).digest() != expected:
            raise IntegrityError("BadDigest", MD5_MISMATCH)

    claimed: list[tuple[str, str]] = []
    for name in list(headers.keys()):
        lname = name.lower()
        if lname.startswith(_CHECKSUM_PREFIX) and lname not in _NOT_VALUES:
            claimed.append((lname.removeprefix(_CHECKSUM_PREFIX).upper(), headers.get(name) or ""))
    for name in trailer_names:
        if not name.startswith(_CHECKSUM_PREFIX):
            continue
        if name not in trailers:
            raise IntegrityError("InvalidRequest", MALFORMED_TRAILER)
        claimed.append((name.removeprefix(_CHECKSUM_PREFIX).upper(), trailers[name]))
    sdk_algorithm = (headers.get("x-amz-sdk-checksum-algorithm") or "").upper()
    if len(claimed) > 1:
        raise IntegrityError("InvalidRequest", MULTIPLE)
    if not claimed:
        if sdk_algorithm:
            raise IntegrityError("InvalidRequest", ALGORITHM_WITHOUT_VALUE)
        return None
    algorithm, value = claimed[0]
    if algorithm not in checksums.DIGESTS:
        return None  # an algorithm the sandbox cannot compute (XXHASH*): stored unchecked, as moto does
    if sdk_algorithm and sdk_algorithm != algorithm:
        raise IntegrityError("BadDigest", mismatch_message(sdk_algorithm))
    if not checksums.decodes(value, algorithm):
        raise IntegrityError("InvalidRequest", invalid_value_message(algorithm))
    if checksums.encoded(payload, algorithm) != value:
        raise IntegrityError("BadDigest", mismatch_message(algorithm))
    return algorithm, value


def _verified(original: Callable[..., Any]) -> Callable[..., Any]:
    """PutObject / UploadPart: refuse a body that does not match its checksums before moto stores it."""

    def handler(self: Any) -> Any:
        from moto.s3.exceptions import S3ClientError

        try:
            found = verify_upload(self.headers, bytes(self.raw_body or b""), bytes(self.body or b""))
        except IntegrityError as exc:
            raise S3ClientError(exc.code, exc.message) from None
        setattr(self, _STASH, found)
        _uploading.checksum = found  # for the part being stored (see _as_aws_on_part)
        try:
            return original(self)
        finally:
            _uploading.checksum = None

    return handler


def _stored_checksum(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto keeps a checksum only when x-amz-sdk-checksum-algorithm names it: keep the verified one."""

    def get_checksum(self: Any, response_headers: dict[str, Any]) -> tuple[str, str | None]:
        found = getattr(self, _STASH, None)
        if found is None:
            return original(self, response_headers)  # type: ignore[no-any-return]
        algorithm, value = found
        response_headers[f"{_CHECKSUM_PREFIX}{algorithm.lower()}"] = value
        return algorithm, value

    return get_checksum


def _compute_checksum(body: bytes, algorithm: str, encode_base64: bool = True) -> bytes:
    """moto.s3.utils.compute_checksum with CRC32C and CRC64NVME computed for real."""
    name = algorithm.upper() if algorithm.upper() in checksums.DIGESTS else "SHA256"  # moto's fallback
    raw = checksums.digest(body, name)
    return base64.b64encode(raw) if encode_base64 else raw


def is_kms(encryption: str | None) -> bool:
    return encryption in KMS_ALGORITHMS


def _random_etag() -> str:
    return secrets.token_hex(16)


def _kms_etag_on_put(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def put_object(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = original(self, *args, **kwargs)
        arguments = signature.bind(self, *args, **kwargs).arguments
        # A completed multipart upload brings its "<hex>-N"; a single write gets its own ETag.
        if arguments.get("etag") is None and is_kms(key.encryption):
            key._etag = _random_etag()
        if arguments.get("checksum_value") and arguments.get("multipart") is None:
            key.checksum_type = "FULL_OBJECT"  # as HeadObject says for a single PUT's checksum
        return key

    return put_object


# The checksum verified for the UploadPart this thread is serving; kept on the part, so that
# CompleteMultipartUpload compares part checksums without reading every part again.
_uploading = threading.local()


def _as_aws_on_part(original: Callable[..., Any]) -> Callable[..., Any]:
    def upload_part(self: Any, bucket_name: str, multipart_id: str, part_id: int, value: bytes) -> Any:
        part = original(self, bucket_name, multipart_id, part_id, value)
        verified = getattr(_uploading, "checksum", None)
        if verified is not None:
            part.checksum_algorithm, part.checksum_value = verified
        bucket = self.get_bucket(bucket_name)
        multipart = bucket.multiparts.get(multipart_id)
        encryption = getattr(multipart, "sse_encryption", None)
        if encryption is None and bucket.encryption:
            encryption = bucket.encryption["Rule"]["ApplyServerSideEncryptionByDefault"].get("SSEAlgorithm")
        if is_kms(encryption):
            part._etag = _random_etag()
        return part

    return upload_part


def _head_checksum_as_get(original: Callable[..., Any]) -> Callable[..., Any]:
    """HeadObject with ChecksumMode says what GetObject says: a composite value with its "-N" and
    the checksum type (moto's HeadObject drops both, so a multipart object's would not compare)."""

    def head_object(
        self: Any, bucket_name: str, query: dict[str, Any], key_name: str, headers: dict[str, Any]
    ) -> Any:
        status, response_headers, body = original(self, bucket_name, query, key_name, headers)
        if status != 200 or headers.get("x-amz-checksum-mode") != "ENABLED" or query.get("partNumber"):
            return status, response_headers, body
        version_id = query.get("versionId", [None])[0]
        key = self.backend.get_object(bucket_name, key_name, version_id=version_id)
        if key is not None and key.checksum_algorithm and key.checksum_value:
            value = key.checksum_value
            if key.checksum_type == "COMPOSITE":
                value = f"{value}-{key.checksum_parts}"
            response_headers[f"{_CHECKSUM_PREFIX}{key.checksum_algorithm.lower()}"] = value
            if key.checksum_type:
                response_headers["x-amz-checksum-type"] = key.checksum_type
        return status, response_headers, body

    return head_object


# What a CompleteMultipartUpload request claims, for FakeMultipart.complete (moto hands it only part
# numbers and ETags): the whole object's checksum and each listed part's. One request per thread.
_completing = threading.local()


@dataclass(frozen=True)
class _CompleteClaims:
    whole: tuple[str, str] | None
    parts: dict[int, tuple[str, str]]


def claims_of_complete(headers: Any, body: bytes) -> _CompleteClaims:
    """The checksums a CompleteMultipartUpload names: x-amz-checksum-<algorithm> for the object and
    <Checksum<ALGORITHM>> per <Part>. IntegrityError when more than one header is sent."""
    whole = [
        (name.lower().removeprefix(_CHECKSUM_PREFIX).upper(), headers.get(name) or "")
        for name in list(headers.keys())
        if name.lower().startswith(_CHECKSUM_PREFIX) and name.lower() not in _NOT_VALUES
    ]
    if len(whole) > 1:
        raise IntegrityError("InvalidRequest", MULTIPLE)
    parts: dict[int, tuple[str, str]] = {}
    try:
        root = ElementTree.fromstring(body or b"<x/>")
    except ElementTree.ParseError:
        root = ElementTree.Element("x")  # moto answers MalformedXML itself
    for part in root.iter():
        if not part.tag.endswith("Part"):
            continue
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in part}
        number = fields.get("PartNumber", "")
        for name, value in fields.items():
            algorithm = name.removeprefix("Checksum").upper()
            if name.startswith("Checksum") and algorithm in checksums.DIGESTS and number.isdigit():
                parts[int(number)] = (algorithm, value)
    return _CompleteClaims(whole[0] if whole else None, parts)


def _verified_complete(original: Callable[..., Any]) -> Callable[..., Any]:
    """CompleteMultipartUpload: the claims are checked inside FakeMultipart.complete (after moto's
    authorization, before anything is stored); the answer carries the stored checksum, as AWS's."""

    def key_response_post(
        self: Any, request: Any, body: bytes, bucket_name: str, query: dict[str, Any], key_name: str
    ) -> Any:
        if not query.get("uploadId"):
            return original(self, request, body, bucket_name, query, key_name)
        from moto.s3.exceptions import S3ClientError

        try:
            _completing.claims = claims_of_complete(self.headers, bytes(body or b""))
        except IntegrityError as exc:
            raise S3ClientError(exc.code, exc.message) from None
        try:
            status, headers, out = original(self, request, body, bucket_name, query, key_name)
        finally:
            _completing.claims = None
        key = self.backend.get_object(bucket_name, key_name) if status == 200 else None
        if key is not None and key.checksum_algorithm and key.checksum_value:
            value = key.checksum_value
            if key.checksum_type == "COMPOSITE":
                value = f"{value}-{key.checksum_parts}"
            extra = f"<Checksum{key.checksum_algorithm}>{value}</Checksum{key.checksum_algorithm}>"
            if key.checksum_type:
                extra += f"<ChecksumType>{key.checksum_type}</ChecksumType>"
            closing = "</CompleteMultipartUploadResult>"
            if isinstance(out, bytes):
                out = out.replace(closing.encode(), extra.encode() + closing.encode())
            elif isinstance(out, str):
                out = out.replace(closing, extra + closing)
            headers.pop("content-length", None)
            headers.pop("Content-Length", None)
        return status, headers, out

    return key_response_post


def _checked_complete(original: Callable[..., Any]) -> Callable[..., Any]:
    def complete(self: Any, body: Any) -> Any:
        from moto.s3.exceptions import InvalidPart, S3ClientError

        result = original(self, body)
        claims: _CompleteClaims | None = getattr(_completing, "claims", None)
        if claims is None:
            return result
        for number, (algorithm, value) in claims.parts.items():
            part = self.parts.get(number)
            if part is None:
                continue  # moto itself answers InvalidPart for a part never uploaded
            if part.checksum_algorithm == algorithm and part.checksum_value:
                stored = part.checksum_value
            else:
                stored = checksums.encoded(part.value, algorithm)
            if stored != value:
                raise InvalidPart()  # as S3 answers a part checksum that differs from the stored part's
        details = result[2]
        if claims.whole is not None and details is not None:
            algorithm, value = claims.whole
            kind, stored, count = details
            expected = f"{stored}-{count}" if kind == "COMPOSITE" else stored
            if value not in (expected, stored):
                raise S3ClientError(
                    "BadDigest",
                    f"The {algorithm.lower()} you specified did not match the calculated checksum.",
                )
        return result

    return complete


def _remember_request(original: Callable[..., Any]) -> Callable[..., Any]:
    def init(self: Any, checksum_algorithm: str | None, checksum_type: str | None) -> None:
        original(self, checksum_algorithm, checksum_type)
        self._sagewiz_requested = checksum_algorithm is not None

    return init


def _only_when_requested(original: Callable[..., Any]) -> Callable[..., Any]:
    """moto gives every completed multipart upload a CRC64NVME nobody asked for (see the module doc)."""

    def build(self: Any) -> Any:
        return original(self) if getattr(self, "_sagewiz_requested", True) else None

    return build


_patched_modules: set[str] = set()


def install() -> None:
    import importlib

    from moto.s3.models import FakeMultipart, MultipartChecksumBuilder, S3Backend
    from moto.s3.responses import S3Response

    wrap_method(S3Response, "put_object", _verified)
    wrap_method(S3Response, "upload_part", _verified)
    wrap_method(S3Response, "_get_checksum", _stored_checksum)
    wrap_method(S3Response, "head_object", _head_checksum_as_get)
    wrap_method(S3Response, "_key_response_post", _verified_complete)
    wrap_method(FakeMultipart, "complete", _checked_complete)
    wrap_method(S3Backend, "put_object", _kms_etag_on_put)
    wrap_method(S3Backend, "upload_part", _as_aws_on_part)
    wrap_method(MultipartChecksumBuilder, "__init__", _remember_request)
    wrap_method(MultipartChecksumBuilder, "build", _only_when_requested)
    # moto imports compute_checksum by name into each module that uses it.
    for name in ("moto.s3.utils", "moto.s3.models", "moto.s3.responses"):
        if name not in _patched_modules:
            importlib.import_module(name).compute_checksum = _compute_checksum  # type: ignore[attr-defined]
            _patched_modules.add(name)
