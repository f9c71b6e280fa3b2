"""The sync engine: a local folder or an s3:// prefix into an s3:// prefix, fast, resumable, cancellable.

Where its parts live:

- `locations`: the source and destination, validated before any AWS call.
- `files`, `parts`, `hash_cache`: the files on each side, part sizes and multipart ETags, and the
  local hashes cached by (path, size, mtime, ctime, inode) so an unchanged rerun reads no file.
- `plan`: list both sides and decide copy or skip (same size and same ETag means skip).
- `preflight`: the destination bucket exists, is reachable and is in the session's region.
- `engine`: run a plan (server-side copies, uploads, multipart uploads), cancellable, resumable.
- `progress`: what a run reports while it runs, and its result.
- `errors`: S3 errors said for people; a denial carries what the permissions doctor needs.
- `transfer_client`: the botocore S3 client, sized for the run's parallel requests.
- `quick_client`: the botocore-free client (a small SigV4 signer over http.client) with which a
  no-op rerun costs one LIST request and small uploads skip botocore's per-request cost.
- `formatting`: sizes and durations as people read them.
"""

from __future__ import annotations

# Kept importable from the package while a shared duration formatter is being written.
from services.sync.formatting import human_bytes

__all__ = ["human_bytes"]
