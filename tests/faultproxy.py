"""A fault-injecting HTTP proxy for tests: flip a byte, drop a connection, slow the link, log requests.

Pure standard library; one thread per client connection. It sits in front of the sandbox's HTTP
server in either of two ways:

- as the endpoint: point the client at `proxy.url` (`endpoint_url=proxy.url`, or
  `AWS_ENDPOINT_URL_S3=proxy.url`); origin-form requests go to `upstream`. The Host header is
  passed on untouched, so SigV4 signatures (made for the proxy's address) still verify.
- as a forward proxy: `HTTP_PROXY=proxy.url` (or botocore `Config(proxies={"http": proxy.url})`)
  with the client's endpoint left at the sandbox. Requests arrive in absolute form
  (`PUT http://127.0.0.1:45100/bucket/key`) and go where they name. `CONNECT host:port` (HTTPS
  through the proxy) is tunnelled byte for byte; faults then count tunnelled bytes, and a flipped
  byte breaks TLS rather than reaching the server.

Faults apply to request bodies, counted in payload bytes (a chunked body's chunk data, not its
framing), and fire on the requests a `when` predicate accepts (all when None), `times` times (every
time when None):

    proxy.flip_byte(after=100, when=lambda r: r.method == "PUT")   # XOR 0x01 into body byte 100
    proxy.drop_connection(after=1024, times=None)                  # cut every upload after 1 KiB
                                                                    # (the server sees the body end)
    proxy.throttle(256 * 1024)                                      # 256 KiB/s each way; None lifts it
    proxy.clear_faults()
    proxy.pending_faults()                                          # hits still to fire (0 = all fired)

It forwards only to this machine (loopback): a request or CONNECT for any other host (a client that
resolved a real AWS endpoint, FIPS or dual-stack) is logged and answered 502 without touching the
network, so a test can assert which host a client chose.

Every request is logged, dropped ones too: `proxy.requests` is a list of `ProxiedRequest`
(method, target, host, path, query, upstream, headers, body_bytes, fault, status). Tests assert
where requests went with it, e.g. `[r for r in proxy.requests if r.method == "PUT"]`.

Fixtures (tests/conftest.py): `fault_proxy` (HTTP, in front of the test process's sandbox) and
`https_fault_proxy` with `tls_files` (below); both stopped after the test.

With `certfile`/`keyfile` (tests/tlscerts.py `make_tls(dir)` makes them) it is an HTTPS endpoint
for the plain-HTTP sandbox: a client trusts it only through `AWS_CA_BUNDLE` (or `verify=`), and
botocore then sends its checksums as aws-chunked trailers, as against AWS.

An `Expect: 100-continue` is answered by the proxy itself and not passed on, so the client sends its
body at once and the server reads it as one request.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import BinaryIO
from urllib.parse import urlsplit

_CHUNK = 64 * 1024


class Fault(Enum):
    FLIP = "flip"
    DROP = "drop"


@dataclass
class ProxiedRequest:
    """One request as the proxy saw it. `fault` is the fault that hit it; `status` the upstream's
    answer. For a dropped request, `status` is what the server answered to the body cut short
    (S3 and the sandbox: 400 IncompleteBody), or None if it answered nothing; the client saw
    only its connection closed."""

    method: str
    target: str  # as received: absolute-form (forward proxy), origin-form (endpoint) or host:port (CONNECT)
    host: str  # the Host header (CONNECT: its authority)
    path: str
    query: str
    upstream: str  # "host:port" the proxy connected to
    headers: dict[str, str]  # lower-case names
    body_bytes: int = 0  # payload bytes forwarded
    fault: Fault | None = None
    status: int | None = None


Predicate = Callable[[ProxiedRequest], bool]


@dataclass
class _Rule:
    kind: Fault
    after: int
    when: Predicate | None
    remaining: int | None  # None: every matching request


class _Dropped(Exception):
    """The proxy cut the connection on purpose."""


@dataclass
class _Plan:
    """The fault (if any) one request's body is carried with."""

    rule: _Rule | None = None
    seen: int = 0
    fired: bool = False


class FaultProxy:
    def __init__(
        self,
        upstream: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: str | os.PathLike[str] | None = None,
        keyfile: str | os.PathLike[str] | None = None,
    ) -> None:
        """`upstream`: where requests go when the proxy is used as the endpoint ("http://host:port").
        With `certfile` and `keyfile` the proxy speaks HTTPS to its clients (`url` is https://) and
        plain HTTP upstream (tests/tlscerts.py makes a CA and a certificate for 127.0.0.1)."""
        self._upstream = _address(upstream) if upstream else None
        self._tls: ssl.SSLContext | None = None
        if certfile is not None:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(certfile, keyfile)
        self._lock = threading.RLock()  # a `when` predicate may read proxy.requests
        self._rules: list[_Rule] = []
        self._log: list[ProxiedRequest] = []
        self._rate: int | None = None
        self._sockets: set[socket.socket] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(64)
        bound_host, bound_port = self._listener.getsockname()[:2]
        self.url = f"{'https' if self._tls else 'http'}://{bound_host}:{bound_port}"
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        if self._thread is None:
            self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        _close(self._listener)  # shutdown wakes the thread blocked in accept(); close alone does not
        with self._lock:
            live = list(self._sockets)
        for sock in live:
            _close(sock)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests call ---------------------------------------------------------------------------

    def flip_byte(self, after: int = 0, *, when: Predicate | None = None, times: int | None = 1) -> None:
        """XOR 0x01 into request body byte number `after` (0-based) of matching requests."""
        self._add(_Rule(Fault.FLIP, after, when, times))

    def drop_connection(
        self, after: int = 0, *, when: Predicate | None = None, times: int | None = 1
    ) -> None:
        """Forward `after` body bytes of matching requests, then close both connections."""
        self._add(_Rule(Fault.DROP, after, when, times))

    def throttle(self, bytes_per_second: int | None) -> None:
        """Slow every connection to about this many bytes per second in each direction; None lifts it."""
        if bytes_per_second is not None and bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        self._rate = bytes_per_second

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def pending_faults(self) -> int:
        """Fault hits not yet fired (a rule with times=None counts as 1 while it stands)."""
        with self._lock:
            return sum(1 if r.remaining is None else r.remaining for r in self._rules)

    @property
    def requests(self) -> list[ProxiedRequest]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- internals ---------------------------------------------------------------------------------

    def _add(self, rule: _Rule) -> None:
        if rule.after < 0:
            raise ValueError("after must be >= 0")
        with self._lock:
            self._rules.append(rule)

    def _claim(self, request: ProxiedRequest) -> _Plan:
        with self._lock:
            for rule in self._rules:
                if rule.remaining == 0 or (rule.when is not None and not rule.when(request)):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                return _Plan(rule)
        return _Plan()

    def _release(self, plan: _Plan) -> None:
        """A claimed fault whose body was too short to reach it is given back."""
        if plan.rule is not None and not plan.fired and plan.rule.remaining is not None:
            with self._lock:
                plan.rule.remaining += 1

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _untrack_only(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        _close(sock)

    def _pace(self, n: int) -> None:
        rate = self._rate
        if rate and n:
            self._stopping.wait(n / rate)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), name="fault-proxy-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        upstream_file: BinaryIO | None = None
        upstream_at: tuple[str, int] | None = None
        if self._tls is not None:
            try:
                wrapped = self._tls.wrap_socket(client, server_side=True)
            except (OSError, ValueError):
                self._untrack(client)
                return
            self._untrack_only(client)
            client = wrapped
            self._track(client)
        client_file = client.makefile("rb")
        try:
            while not self._stopping.is_set():
                head = _read_head(client_file)
                if head is None:
                    return
                method, target, version, headers = _parse_head(head)
                if method == "CONNECT":
                    self._tunnel(client, client_file, target, headers)
                    return
                address, origin_target = self._route(target)
                if address is None:
                    _answer(client, 502, "no upstream for an origin-form request")
                    return
                split = urlsplit(origin_target)
                lowered = {k.lower(): v for k, v in headers}
                request = ProxiedRequest(
                    method=method,
                    target=target,
                    host=lowered.get("host", ""),
                    path=split.path,
                    query=split.query,
                    upstream=f"{address[0]}:{address[1]}",
                    headers=lowered,
                )
                with self._lock:
                    self._log.append(request)
                if not on_this_machine(address[0]):
                    request.status = 502
                    _answer(client, 502, OFF_MACHINE)
                    return
                if lowered.get("expect", "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    headers = [(k, v) for k, v in headers if k.lower() != "expect"]
                if upstream is None or upstream_at != address:
                    if upstream is not None:
                        self._untrack(upstream)
                    upstream = socket.create_connection(address, timeout=60)
                    self._track(upstream)
                    upstream_file = upstream.makefile("rb")
                    upstream_at = address
                assert upstream_file is not None
                out = f"{method} {origin_target} {version}\r\n".encode("latin-1")
                out += b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in headers) + b"\r\n"
                self._send(upstream, out)
                plan = self._claim(request)
                try:
                    self._relay_body(client_file, upstream, lowered, request, plan)
                except _Dropped:
                    request.fault = Fault.DROP
                    request.status = _answer_to_cut_body(upstream, upstream_file)
                    return
                finally:
                    self._release(plan)
                keep = self._relay_response(upstream_file, client, method, request)
                if not keep or lowered.get("connection", "").lower() == "close" or version == "HTTP/1.0":
                    return
        except (OSError, ValueError):
            return
        finally:
            if upstream is not None:
                self._untrack(upstream)
            self._untrack(client)

    def _route(self, target: str) -> tuple[tuple[str, int] | None, str]:
        if target.startswith("http://"):
            split = urlsplit(target)
            origin = split.path or "/"
            if split.query:
                origin += "?" + split.query
            return (split.hostname or "", split.port or 80), origin
        return self._upstream, target

    def _send(self, sock: socket.socket, data: bytes) -> None:
        rate = self._rate
        step = min(_CHUNK, max(1024, rate // 10)) if rate else _CHUNK  # throttled: ~10 sends a second
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            self._pace(len(piece))
            sock.sendall(piece)

    def _payload(self, data: bytes, upstream: socket.socket, request: ProxiedRequest, plan: _Plan) -> None:
        """Forward body payload bytes, applying the planned fault at its offset."""
        rule = plan.rule
        if rule is not None and not plan.fired and plan.seen <= rule.after < plan.seen + len(data):
            offset = rule.after - plan.seen
            plan.fired = True
            request.fault = rule.kind
            if rule.kind is Fault.DROP:
                self._send(upstream, data[:offset])
                request.body_bytes += offset
                raise _Dropped
            data = data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]
        plan.seen += len(data)
        request.body_bytes += len(data)
        self._send(upstream, data)

    def _relay_body(
        self,
        client_file: BinaryIO,
        upstream: socket.socket,
        headers: dict[str, str],
        request: ProxiedRequest,
        plan: _Plan,
    ) -> None:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = client_file.readline()
                if not size_line:
                    raise OSError("client closed mid-body")
                self._send(upstream, size_line)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailer section up to the empty line
                        line = client_file.readline()
                        self._send(upstream, line)
                        if line in (b"\r\n", b"\n", b""):
                            return
                remaining = size
                while remaining:
                    data = client_file.read(min(_CHUNK, remaining))
                    if not data:
                        raise OSError("client closed mid-body")
                    remaining -= len(data)
                    self._payload(data, upstream, request, plan)
                self._send(upstream, client_file.read(2))  # the CRLF after the chunk
        remaining = int(headers.get("content-length", "0") or 0)
        while remaining:
            data = client_file.read(min(_CHUNK, remaining))
            if not data:
                raise OSError("client closed mid-body")
            remaining -= len(data)
            self._payload(data, upstream, request, plan)

    def _relay_response(
        self, upstream_file: BinaryIO, client: socket.socket, method: str, request: ProxiedRequest
    ) -> bool:
        """Copy one response to the client; whether the connection can carry another request."""
        while True:
            head = _read_head(upstream_file)
            if head is None:
                raise OSError("upstream closed before answering")
            status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            status = int(status_line.split()[1])
            final = status >= 200 or status == 101
            if final:
                request.status = status  # before the client can see the answer and look at the log
            self._send(client, head)
            if final:
                break
        headers = {k.lower(): v for k, v in _parse_head(head)[3]}
        keep = headers.get("connection", "").lower() != "close" and not status_line.startswith("HTTP/1.0")
        if method == "HEAD" or status in (204, 304):
            return keep
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = upstream_file.readline()
                self._send(client, size_line)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        line = upstream_file.readline()
                        self._send(client, line)
                        if line in (b"\r\n", b"\n", b""):
                            return keep
                self._send(client, _read_exactly(upstream_file, size + 2))
        if "content-length" in headers:
            remaining = int(headers["content-length"])
            while remaining:
                data = upstream_file.read(min(_CHUNK, remaining))
                if not data:
                    raise OSError("upstream closed mid-response")
                remaining -= len(data)
                self._send(client, data)
            return keep
        while data := upstream_file.read1(_CHUNK) if hasattr(upstream_file, "read1") else b"":
            self._send(client, data)
        return False

    def _tunnel(
        self, client: socket.socket, client_file: BinaryIO, target: str, headers: list[tuple[str, str]]
    ) -> None:
        host, _, port = target.rpartition(":")
        request = ProxiedRequest(
            method="CONNECT",
            target=target,
            host=target,
            path="",
            query="",
            upstream=target,
            headers={k.lower(): v for k, v in headers},
        )
        with self._lock:
            self._log.append(request)
        if not on_this_machine(host.strip("[]")):
            request.status = 502
            _answer(client, 502, OFF_MACHINE)
            return
        upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=60)
        self._track(upstream)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        plan = self._claim(request)
        request.status = 200

        def back() -> None:
            try:
                while data := upstream.recv(_CHUNK):
                    self._send(client, data)
            except OSError:
                pass
            finally:
                _close(client)

        threading.Thread(target=back, name="fault-proxy-tunnel", daemon=True).start()
        try:
            buffered = client_file.read1(_CHUNK) if hasattr(client_file, "read1") else b""
            while buffered:
                self._payload(buffered, upstream, request, plan)
                buffered = client_file.read1(_CHUNK) if hasattr(client_file, "read1") else b""
        except (_Dropped, OSError):
            pass
        finally:
            self._release(plan)
            self._untrack(upstream)


OFF_MACHINE = "the fault proxy only forwards to this machine"


def on_this_machine(host: str) -> bool:
    """Loopback only: a test never reaches the network through the proxy, even when a client
    resolves a real AWS endpoint (FIPS, dual-stack); the request is logged and answered 502."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _answer_to_cut_body(upstream: socket.socket, upstream_file: BinaryIO) -> int | None:
    """The server's status for a body that stopped short: it sees the end of the stream, as when
    a link goes down, and answers (or not) before the proxy closes the client's connection."""
    try:
        upstream.shutdown(socket.SHUT_WR)
        upstream.settimeout(10)
        head = _read_head(upstream_file)
        return int(head.split(b" ", 2)[1]) if head else None
    except (OSError, ValueError, IndexError):
        return None


def _address(url: str) -> tuple[str, int]:
    split = urlsplit(url)
    return split.hostname or "127.0.0.1", split.port or (443 if split.scheme == "https" else 80)


def _read_head(stream: BinaryIO) -> bytes | None:
    """Bytes up to and including the blank line ending a message head; None at a clean EOF."""
    lines: list[bytes] = []
    while True:
        line = stream.readline(65537)
        if not line:
            return None if not lines else b"".join(lines)
        if not lines and line in (b"\r\n", b"\n"):
            continue  # stray CRLF between messages
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


def _parse_head(head: bytes) -> tuple[str, str, str, list[tuple[str, str]]]:
    text = head.decode("latin-1")
    first, *rest = text.split("\r\n")
    parts = first.split(" ", 2)
    if len(parts) != 3:
        raise ValueError(f"not an HTTP message head: {first!r}")
    headers = []
    for line in rest:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return parts[0], parts[1], parts[2], headers


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise OSError("stream ended early")
    return data


def _answer(client: socket.socket, status: int, text: str) -> None:
    body = text.encode()
    with contextlib.suppress(OSError):
        client.sendall(
            f"HTTP/1.1 {status} Proxy Error\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextlib.contextmanager
def running(upstream: str | None = None) -> Iterator[FaultProxy]:
    """A started proxy, stopped on exit."""
    proxy = FaultProxy(upstream)
    with proxy:
        yield proxy
