"""The files on each side of a sync: a source file, an object already at the destination, a
multipart upload left open there, a file that could not be copied."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceFile:
    rel: str  # the key below the prefix, with "/" separators
    size: int
    path: str | None = None  # local file
    key: str | None = None  # source S3 key
    etag: str | None = None  # source S3 ETag (without quotes)
    sig: tuple[int, int, int, int] | None = None  # (size, mtime_ns, ctime_ns, inode) of a local file


@dataclass(frozen=True)
class RemoteObject:
    key: str
    size: int
    etag: str
    checksums: tuple[str, ...] = ()  # the algorithms S3 keeps a checksum in (CRC32, SHA256, ...)


@dataclass(frozen=True)
class OpenUpload:
    """A multipart upload nobody completed or aborted (a killed run): its parts are stored and billed."""

    key: str
    upload_id: str
    initiated: str
    checksum_algorithm: str = ""


@dataclass(frozen=True)
class FileFailure:
    rel: str
    reason: str
    code: str = ""
