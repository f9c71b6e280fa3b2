"""A botocore-free S3 client: ListObjectsV2, HeadBucket and PutObject signed here (SigV4, stdlib only).

botocore costs about a second to import and a millisecond of CPU a request. With static keys from the
environment, a no-op rerun of `sagewiz data sync` is one LIST through `quick_list`, and small uploads
go out through `LightPut`; anything unusual falls back to botocore. Everything that talks HTTP
without botocore is in this module, so it can be replaced as one piece.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from services.s3uri import S3Uri
from services.sync.files import RemoteObject
from services.sync.parts import MiB

STREAM_CHUNK = 1 * MiB


class FileChanged(Exception):
    """A file grew shorter while it was being streamed: the body must not be sent short."""


class QuickUnavailable(Exception):
    """The quick path cannot answer (no static keys, a redirect, an error): use the full engine."""


@dataclass(frozen=True)
class QuickTarget:
    region: str
    access_key: str
    secret_key: str
    token: str | None
    endpoint: str | None  # None: the real S3 endpoint of the region

    def __repr__(self) -> str:
        return f"QuickTarget(region={self.region}, endpoint={self.endpoint})"


def quick_target(profile: str | None, region: str | None, endpoint: str | None) -> QuickTarget | None:
    """Static keys from the environment only; anything else (profiles, SSO, roles) needs botocore."""
    env = os.environ
    if profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE"):
        return None
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    region = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not (key and secret and region):
        return None
    endpoint = endpoint or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    return QuickTarget(region, key, secret, env.get("AWS_SESSION_TOKEN") or None, endpoint or None)


def _sigv4_headers(
    t: QuickTarget, host: str, path: str, query: list[tuple[str, str]], method: str = "GET"
) -> dict[str, str]:
    """AWS Signature Version 4 for a GET with an empty body (the S3 flavour: path encoded once)."""
    import hmac
    from datetime import UTC, datetime
    from urllib.parse import quote

    now = datetime.now(UTC)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    empty = hashlib.sha256(b"").hexdigest()
    headers = {"host": host, "x-amz-content-sha256": empty, "x-amz-date": amz_date}
    if t.token:
        headers["x-amz-security-token"] = t.token
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query))
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            method,
            quote(path, safe="/-_.~"),
            canonical_query,
            "".join(f"{k}:{headers[k].strip()}\n" for k in sorted(headers)),
            signed,
            empty,
        ]
    )
    scope = f"{day}/{t.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = h(h(h(h(("AWS4" + t.secret_key).encode(), day), t.region), "s3"), "aws4_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={t.access_key}/{scope}, SignedHeaders={signed}, Signature={sig}"
    )
    return headers


def quick_list(t: QuickTarget, uri: S3Uri) -> dict[str, RemoteObject]:
    """ListObjectsV2 over one kept-alive connection. Raises QuickUnavailable on anything unusual."""
    import http.client
    import xml.etree.ElementTree as ET
    from urllib.parse import quote

    scheme, host, path = _quick_location(t, uri.bucket)
    conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(host, timeout=30)
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    out: dict[str, RemoteObject] = {}
    token: str | None = None
    try:
        while True:
            query = [("list-type", "2"), ("prefix", uri.prefix)]
            if token:
                query.append(("continuation-token", token))
            headers = _sigv4_headers(t, host, path, query)
            qs = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
            conn.request("GET", f"{quote(path, safe='/-_.~')}?{qs}", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise QuickUnavailable(f"HTTP {resp.status}")
            bucket_region = resp.getheader("x-amz-bucket-region")
            if bucket_region and bucket_region != t.region:
                raise QuickUnavailable("bucket in another region")
            root = ET.fromstring(body)
            for c in root.iter(f"{ns}Contents"):
                key = c.findtext(f"{ns}Key") or ""
                out[key] = RemoteObject(
                    key, int(c.findtext(f"{ns}Size") or 0), (c.findtext(f"{ns}ETag") or "").strip('"')
                )
            if (root.findtext(f"{ns}IsTruncated") or "false").lower() != "true":
                return out
            token = root.findtext(f"{ns}NextContinuationToken")
            if not token:
                raise QuickUnavailable("truncated listing without a continuation token")
    except (OSError, http.client.HTTPException, ET.ParseError, ValueError) as exc:
        raise QuickUnavailable(str(exc)) from exc
    finally:
        conn.close()


def _quick_location(t: QuickTarget, bucket: str) -> tuple[str, str, str]:
    from urllib.parse import urlsplit

    if t.endpoint:
        parts = urlsplit(t.endpoint)
        return parts.scheme, parts.netloc, f"{parts.path.rstrip('/')}/{bucket}"
    if "." in bucket:
        return "https", f"s3.{t.region}.amazonaws.com", f"/{bucket}"
    return "https", f"{bucket}.s3.{t.region}.amazonaws.com", "/"


def quick_bucket_region(t: QuickTarget, bucket: str) -> str | None:
    """HeadBucket signed here: the bucket's region, or QuickUnavailable (missing, refused, redirect)."""
    import http.client
    from urllib.parse import quote

    scheme, host, path = _quick_location(t, bucket)
    conn_cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    conn = conn_cls(host, timeout=30)
    try:
        conn.request("HEAD", quote(path, safe="/-_.~"), headers=_sigv4_headers(t, host, path, [], "HEAD"))
        resp = conn.getresponse()
        resp.read()
    except (OSError, http.client.HTTPException) as exc:
        raise QuickUnavailable(str(exc)) from exc
    finally:
        conn.close()
    if resp.status != 200:
        raise QuickUnavailable(f"HTTP {resp.status}")
    return resp.getheader("x-amz-bucket-region")


class LightPut:
    """PutObject signed here (SigV4) over one kept-alive connection per thread.

    botocore spends about a millisecond of CPU a request on its generic machinery; for thousands of
    small files that is the client's whole cost. This path only handles success: on any other answer
    or a connection problem it returns None and the caller repeats the PUT through botocore (PUT is
    idempotent), which retries and reports errors properly. Used only for the standard partition or
    an explicit endpoint, and never through a proxy.
    """

    def __init__(self, endpoint: str | None, region: str, credentials: Callable[[], Any]) -> None:
        from urllib.parse import urlsplit

        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.local = threading.local()
        self.failures = 0
        self.loopback = False
        if endpoint:
            parts = urlsplit(endpoint)
            self.scheme, self.netloc, self.base = parts.scheme, parts.netloc, parts.path.rstrip("/")
            self.loopback = (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")
        else:
            self.scheme, self.netloc, self.base = "https", "", ""

    @classmethod
    def for_quick(cls, t: QuickTarget) -> LightPut | None:
        from types import SimpleNamespace

        if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")):
            return None
        if not t.endpoint and t.region.startswith(("cn-", "us-gov-", "us-iso", "eusc-")):
            return None
        frozen = SimpleNamespace(access_key=t.access_key, secret_key=t.secret_key, token=t.token)
        return cls(t.endpoint, t.region, lambda: frozen)

    @classmethod
    def for_factory(cls, factory: Any) -> LightPut | None:
        env = os.environ
        if any(env.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")):
            return None
        region = factory.region
        endpoint = factory.target.endpoint_url
        if not endpoint and (not region or region.startswith(("cn-", "us-gov-", "us-iso", "eusc-"))):
            return None
        if not endpoint and any(env.get(v) for v in ("AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT")):
            return None
        try:
            creds = factory.session.get_credentials()
        except Exception:
            return None
        if creds is None:
            return None
        return cls(endpoint, region, creds.get_frozen_credentials)

    def _conn(self, host: str) -> Any:
        import http.client

        conns = self.local.__dict__.setdefault("conns", {})
        conn = conns.get(host)
        if conn is None:
            if self.scheme == "https":
                import ssl

                ctx = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
                conn = http.client.HTTPSConnection(host, timeout=60, context=ctx)
            else:
                conn = http.client.HTTPConnection(host, timeout=60)
            conns[host] = conn
        return conn

    def _drop(self, host: str) -> None:
        conn = self.local.__dict__.get("conns", {}).pop(host, None)
        if conn is not None:
            conn.close()

    @property
    def streams(self) -> bool:
        """Whether a body can go out unsigned (TLS, or this machine), so it can be streamed as read."""
        return self.scheme == "https" or self.loopback

    def _target(self, bucket: str, key: str) -> tuple[str, str]:
        if self.endpoint:
            return self.netloc, f"{self.base}/{bucket}/{key}"
        if "." in bucket:
            return f"s3.{self.region}.amazonaws.com", f"/{bucket}/{key}"
        return f"{bucket}.s3.{self.region}.amazonaws.com", f"/{key}"

    def _signed(
        self, host: str, path: str, payload: str, size: int, content_type: str | None, owner: str | None
    ) -> tuple[str, dict[str, str]]:
        import hmac
        from datetime import UTC, datetime
        from urllib.parse import quote

        creds = self.credentials()
        now = datetime.now(UTC)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        if content_type:
            headers["content-type"] = content_type
        if owner:
            headers["x-amz-expected-bucket-owner"] = owner
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        names = sorted(headers)
        signed = ";".join(names)
        uri = quote(path, safe="/-_.~")
        canonical = "\n".join(
            ["PUT", uri, "", "".join(f"{k}:{headers[k].strip()}\n" for k in names), signed, payload]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        k = ("AWS4" + creds.secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, SignedHeaders={signed}, Signature={sig}"
        )
        headers["content-length"] = str(size)
        del headers["host"]  # http.client sends it
        return uri, headers

    def _send(self, host: str, uri: str, headers: dict[str, str], body: Callable[[], Any]) -> str | None:
        """PUT with one retry on a dropped connection: the ETag on 200, else None."""
        import http.client

        for attempt in (1, 2):
            conn = self._conn(host)
            try:
                conn.request("PUT", uri, body=body(), headers=headers)
                resp = conn.getresponse()
                resp.read()
            except FileChanged:
                self._drop(host)
                raise
            except (OSError, http.client.HTTPException):
                self._drop(host)
                if attempt == 2:
                    self.failures += 1
                    return None
                continue
            if resp.status == 200:
                return (resp.getheader("ETag") or "").strip('"')
            if resp.getheader("Connection", "").lower() == "close":
                self._drop(host)
            self.failures += 1 if resp.status not in (403, 404) else 0
            return None
        return None

    def put(
        self, bucket: str, key: str, data: bytes, content_type: str | None, owner: str | None
    ) -> str | None:
        if self.failures > 5:
            return None
        host, path = self._target(bucket, key)
        # Over a network without TLS the payload is signed. Over TLS, or to an endpoint on this machine
        # (the sandbox: no network to tamper with), S3's UNSIGNED-PAYLOAD saves hashing every byte
        # twice; the MD5 checked against the returned ETag still proves the bytes arrived intact.
        payload = "UNSIGNED-PAYLOAD" if self.streams else hashlib.sha256(data).hexdigest()
        uri, headers = self._signed(host, path, payload, len(data), content_type, owner)
        return self._send(host, uri, headers, lambda: data)

    def put_file(
        self, bucket: str, key: str, path: str, size: int, content_type: str | None, owner: str | None
    ) -> tuple[str, str] | None:
        """Stream a file (unsigned payload only), hashing it while it is sent, so reading, hashing
        and the server's receiving overlap. Returns (ETag, local MD5), or None to use botocore."""
        if self.failures > 5 or not self.streams:
            return None
        host, target = self._target(bucket, key)
        uri, headers = self._signed(host, target, "UNSIGNED-PAYLOAD", size, content_type, owner)
        md5: list[Any] = []

        def body() -> Iterator[bytes]:
            h = hashlib.md5()
            md5[:] = [h]
            left = size
            with open(path, "rb") as fh:
                while left > 0:
                    chunk = fh.read(min(STREAM_CHUNK, left))
                    if not chunk:
                        raise FileChanged(path)  # shorter than it was: never send a short body
                    h.update(chunk)
                    left -= len(chunk)
                    yield chunk

        etag = self._send(host, uri, headers, body)
        if etag is None:
            return None
        return etag, md5[0].hexdigest()
