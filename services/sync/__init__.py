"""The sync engine: a local folder or an s3:// prefix into an s3:// prefix, checked, resumable, cancellable.

Every request goes through the factory's botocore client (`transfer_client`) and the bytes through
s3transfer; what is ours is the plan, the skip logic, the state file, resuming and progress.

Where its parts live:

- `locations`: the source and destination, validated before any AWS call.
- `files`: a source file, a destination object, an open multipart upload, a file that failed.
- `plan`: list both sides (one paginated listing each, keys url-encoded on the wire) and the open
  multipart uploads, and decide copy or skip.
- `compare`: whether a destination object holds the source's bytes: the record of what was sent, the
  CRC32 S3 stored, an ETag equal to the file's MD5. Never a guess from an ETag's shape.
- `checksums`, `parts`: CRC32 and MD5 of local files in the forms S3 stores them; part sizes.
- `hash_cache`: the state file (local hashes, what was sent where), 0600 in a 0700 folder.
- `preflight`: the destination bucket exists, is reachable and is in the session's region.
- `engine`: run a plan through s3transfer (every PUT and part with a CRC32 S3 checks), cancellable.
- `uploads`: multipart uploads left open by a killed run, resumed when they match, else aborted.
- `progress`: what a run reports while it runs, and its result.
- `errors`: S3 errors said for people; a denial carries what the permissions doctor needs.
- `transfer_client`: the botocore S3 client, sized for the run's parallel requests, noting the ETags
  S3 answers.
- `mime`, `formatting`: a file's Content-Type; sizes and durations as people read them.
"""

from __future__ import annotations

# Kept importable from the package while a shared duration formatter is being written.
from services.sync.formatting import human_bytes

__all__ = ["human_bytes"]
