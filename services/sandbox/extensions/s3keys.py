"""S3 keys holding a line feed reach their object, as in AWS.

moto's server routes `/<bucket>/<key>` with the regex `.+`, and `.` matches no line feed: a PutObject
or GetObject for `line\\nfeed.txt` fell through every route and werkzeug answered a bare 404 HTML page
("Not Found"), so a key with a newline could never round-trip in the sandbox. The key patterns are
widened to match any character; what each handler does with the key is unchanged. The server builds
the S3 app from these routes on the first S3 request, after the extensions load.
"""

from __future__ import annotations

from typing import Any

_ANY = r"[\s\S]"


def widen(pattern: str) -> str:
    """The same route, with the key groups matching line feeds too."""
    return pattern.replace("(?P<key_name>.+)", f"(?P<key_name>{_ANY}+)").replace(
        "(?P<key_name>/.*)", f"(?P<key_name>/{_ANY}*)"
    )


def _widen_module(module: Any) -> Any:
    for pattern in list(module.url_paths):
        widened = widen(pattern)
        if widened != pattern:
            module.url_paths[widened] = module.url_paths.pop(pattern)
    return module


_installed: list[bool] = []


def install() -> None:
    from moto.s3.models import S3Backend

    if _installed:
        return
    # S3Backend reloads moto.s3.urls each time it is asked for its routes (they depend on
    # environment variables), so the routes are widened after every reload, not once.
    reloading = S3Backend.__dict__["_url_module"]
    S3Backend._url_module = property(lambda self: _widen_module(reloading.fget(self)))  # type: ignore[method-assign,assignment]
    _installed.append(True)
