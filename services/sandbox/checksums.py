"""The checksums S3 verifies on upload, computed as S3 computes them (base64 of the big-endian digest).

moto 5.2 computes CRC32C and CRC64NVME as plain CRC32 unless optional packages (`crc32c`, `awscrt`)
are installed, so a correct value would be refused. CRC32, SHA-1/256/512 and MD5 come from the
standard library (fast); CRC32C and CRC64NVME are table-driven here, in pure Python (about 5 MB/s:
fine for tests, which is where a client sends them; botocore needs awscrt to send either).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable


def _table(poly: int) -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC32C = _table(0x82F63B78)  # Castagnoli, reflected
_CRC64NVME = _table(0x9A6C9329AC4BC9B5)  # NVMe, reflected


def _reflected_crc(data: bytes, table: list[int], mask: int) -> int:
    crc = mask
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ mask


def crc32c(data: bytes) -> int:
    return _reflected_crc(data, _CRC32C, 0xFFFFFFFF)


def crc64nvme(data: bytes) -> int:
    return _reflected_crc(data, _CRC64NVME, 0xFFFFFFFFFFFFFFFF)


def _hashlib(name: str) -> Callable[[bytes], bytes]:
    return lambda data: hashlib.new(name, data, usedforsecurity=False).digest()


# Algorithm (as in x-amz-checksum-<algorithm>, upper case) -> raw digest of a body.
DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda data: binascii.crc32(data).to_bytes(4, "big"),
    "CRC32C": lambda data: crc32c(data).to_bytes(4, "big"),
    "CRC64NVME": lambda data: crc64nvme(data).to_bytes(8, "big"),
    "SHA1": _hashlib("sha1"),
    "SHA256": _hashlib("sha256"),
    "SHA512": _hashlib("sha512"),
    "MD5": _hashlib("md5"),
}
DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32, "SHA512": 64, "MD5": 16}


def digest(data: bytes, algorithm: str) -> bytes:
    """The raw digest; KeyError for an algorithm not in DIGESTS."""
    return DIGESTS[algorithm.upper()](data)


def encoded(data: bytes, algorithm: str) -> str:
    """The value S3 sends and expects in x-amz-checksum-<algorithm>."""
    return base64.b64encode(digest(data, algorithm)).decode()


def decodes(value: str, algorithm: str) -> bool:
    """Whether `value` is well-formed for the algorithm: strict base64 of a digest of the right size."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) == DIGEST_SIZES[algorithm.upper()]
