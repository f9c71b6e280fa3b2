"""What the embedded AWS answers when the emulator itself fails: AWS's error shape, never a traceback.

moto raises `NotImplementedError` for operations it lacks (iam:SimulateCustomPolicy and many more)
and sometimes crashes inside a handler. Its Flask app runs in debug mode, so the exception reaches
werkzeug, which prints a traceback to the terminal and answers an HTML page that botocore cannot
parse. `shield(app)` wraps the WSGI app: such a request gets the error document of the caller's
protocol (query XML for IAM/STS, JSON `__type` for SageMaker/Logs, REST XML for S3) with code
`NotImplemented` (HTTP 501) or `InternalFailure` (HTTP 500), and one line goes to the
`sagewiz.sandbox` logger.

It also reads every request body whole, as S3 does before acting on it: a chunked body (botocore's
aws-chunked uploads over HTTPS) to its end, and a body that ends before its Content-Length (a
connection dropped mid-upload) is answered `IncompleteBody` without reaching moto, which would
otherwise store the bytes that did arrive.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

log = logging.getLogger("sagewiz.sandbox")
# A library logger: nothing is printed unless the front end adds a handler (the TUI must stay clean).
log.addHandler(logging.NullHandler())


def _operation(environ: dict[str, Any], body: bytes) -> tuple[str, str]:
    """(service, operation) as well as the request tells them; "" when unknown."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        service, _, op = target.partition(".")
        return service.split("_")[0], op
    auth = environ.get("HTTP_AUTHORIZATION", "")
    service = ""
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        service = scope[3] if len(scope) > 3 else ""
    action = ""
    if body and b"Action=" in body:
        action = (parse_qs(body.decode("utf-8", "replace")).get("Action") or [""])[0]
    if not action:
        action = (parse_qs(environ.get("QUERY_STRING", "")).get("Action") or [""])[0]
    if not action:
        action = f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}".strip()
    return service, action


def error_response(
    environ: dict[str, Any], body: bytes, code: str, message: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) in the protocol the caller speaks."""
    status = "501 Not Implemented" if code == "NotImplemented" else "500 Internal Server Error"
    request_id = uuid.uuid4().hex
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in content_type:
        doc = json.dumps({"__type": code, "message": message}).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", code),
            ("x-amzn-RequestId", request_id),
        ]
        return status, headers, doc
    query = b"Action=" in (body or b"") or "Action=" in environ.get("QUERY_STRING", "")
    if query:  # IAM, STS and the other query-protocol services
        xml = (
            "<ErrorResponse><Error><Type>Receiver</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    else:  # S3 and the REST-XML services
        xml = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        )
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()


def _incomplete_body(start_response: Callable[..., Any]) -> list[bytes]:
    doc = (
        "<?xml version='1.0' encoding='UTF-8'?><Error><Code>IncompleteBody</Code><Message>You did not "
        "provide the number of bytes specified by the Content-Length HTTP header.</Message>"
        f"<RequestId>{uuid.uuid4().hex}</RequestId></Error>"
    ).encode()
    start_response(
        "400 Bad Request",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(doc))), ("Connection", "close")],
    )
    return [doc]


def shield(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wrap a WSGI app so an exception becomes an AWS-shaped error and one log line."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The body is read here so it can be replayed to the app and still be seen on failure.
        import io

        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        chunked = (
            bool(environ.get("wsgi.input_terminated"))
            or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        )
        try:
            # A chunked body (botocore's aws-chunked uploads) has no Content-Length: read it to its end.
            body = environ["wsgi.input"].read() if chunked else environ["wsgi.input"].read(length)
        except Exception:  # the client went away mid-body (werkzeug's dechunker raises)
            body = None
        if body is None or (not chunked and len(body) < length):
            # A connection dropped mid-body: S3 refuses it and stores nothing; moto would store the
            # bytes that did arrive.
            return _incomplete_body(start_response)
        if chunked:
            environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        started: list[bool] = []

        def tracking_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.append(True)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            return app(environ, tracking_start)
        except Exception as exc:
            service, op = _operation(environ, body)
            name = f"{service} {op}".strip() or "request"
            if isinstance(exc, NotImplementedError):
                code = "NotImplemented"
                message = f"The sandbox (moto) does not implement {name}."
            else:
                code = "InternalFailure"
                message = f"The sandbox (moto) failed on {name}: {type(exc).__name__}."
            log.warning(
                "%s -> %s (%s)",
                name,
                code,
                str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__,
            )
            if started:
                raise  # headers already sent: nothing clean can be answered any more
            status, headers, doc = error_response(environ, body, code, message)
            headers.append(("Content-Length", str(len(doc))))
            start_response(status, headers)
            return [doc]

    return wrapped
