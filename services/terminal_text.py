"""Text from outside (S3 keys, job names, AWS error messages, policy values, what a user typed)
made safe to print on a terminal: control characters escaped, long values shortened.

A raw ESC or BEL in an S3 key can set the terminal's title, move the cursor or hide text; a
100,000-character job name echoed back buries the one line that says what is wrong. Every front
end prints such text through these functions (the TUI's renderers, the command line, plain mode).
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except tab and newline, DEL, the C1 controls, and the bidirectional overrides that
# can reorder what a reader sees (the "Trojan Source" characters).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_UNSAFE_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\x1b": "\\e"}

# How much of one outside value an error line echoes back.
ECHO_LIMIT = 80


def _printable(text: str, keep_lines: bool) -> bool:
    """True when `text` holds no control, format or surrogate character (newlines and tabs allowed
    when `keep_lines`): str.isprintable runs in C, far faster than a regular expression."""
    if keep_lines and ("\n" in text or "\t" in text):
        text = text.replace("\n", "").replace("\t", "")
    return text.isprintable()


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str, *, one_line: bool = False) -> str:
    """`text` with every control character written as a visible escape (ESC as \\e, BEL as \\x07).
    Newlines and tabs are kept unless `one_line`; lone surrogates (undecodable bytes) are escaped too."""
    if _printable(text, keep_lines=not one_line):  # the common case, checked in C
        return text
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE
    if pattern.search(text):
        text = pattern.sub(_escape_char, text)
    if not text.isascii():  # only non-ASCII text can hold a lone surrogate (an undecodable byte)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def shorten(text: str, limit: int = ECHO_LIMIT) -> str:
    """At most `limit` characters: the start, an ellipsis and how many characters were left out."""
    if len(text) <= limit:
        return text
    left_out = len(text) - limit
    return f"{text[:limit]}… ({left_out:,} more characters)"


def echo(value: object, limit: int = ECHO_LIMIT) -> str:
    """One outside value quoted for an error line: escaped, on one line, shortened."""
    return "'" + shorten(escape(str(value), one_line=True), limit) + "'"


def safe(text: str, limit: int | None = None) -> str:
    """A block of outside text (an error message, a log line) escaped, optionally shortened."""
    out = escape(text)
    return shorten(out, limit) if limit is not None else out


def safe_line(text: str, limit: int | None = None) -> str:
    """Outside text that must stay on one line (a table cell, a log line)."""
    out = escape(text, one_line=True)
    return shorten(out, limit) if limit is not None else out


# What a front end's own progress line writes on a terminal: back to the line's start, erase to its end.
_PROGRESS_CONTROLS = re.compile("\r|\x1b\\[K")


class EscapingStream:
    """A text stream that escapes every control character written to it: the command line's last
    guard, so a value some renderer forgot to escape still cannot drive the terminal. On a
    terminal the two sequences of a progress line (carriage return, erase to end of line) pass."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._progress = bool(getattr(inner, "isatty", lambda: False)())

    def write(self, text: str) -> int:
        if not _printable(text, keep_lines=True) and _UNSAFE.search(text):
            if self._progress:
                parts = _PROGRESS_CONTROLS.split(text)
                seps = _PROGRESS_CONTROLS.findall(text)
                text = "".join(escape(p) + (seps[i] if i < len(seps) else "") for i, p in enumerate(parts))
            else:
                text = escape(text)
        self._inner.write(text)
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding ... of the real stream
        return getattr(self._inner, name)
