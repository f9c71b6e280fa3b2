"""`sagewiz sandbox serve`: the seeded embedded AWS in the foreground, for the AWS CLI or a notebook."""

from __future__ import annotations

import argparse
import sys
import threading


def run(args: argparse.Namespace) -> int:
    from services.sandbox.server import get_sandbox

    sb = get_sandbox()
    try:
        sb.start(port=args.port)
    except OSError as exc:
        print(
            f"sagewiz: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}; pick another --port",
            file=sys.stderr,
        )
        return 2
    world = sb.reset(seed=True)
    print("sagewiz sandbox: embedded AWS emulator (moto), seeded. Nothing here reaches real AWS.")
    print(f"endpoint: {world.endpoint}   region: {world.region}   account: {world.account}")
    print("Export these to use it from other tools (sandbox-only keys of the emulator's admin user):")
    print(f"  export AWS_ENDPOINT_URL={world.endpoint}")
    print(f"  export AWS_REGION={world.region}")
    print(f"  export AWS_ACCESS_KEY_ID={world.admin.access_key}")
    print(f"  export AWS_SECRET_ACCESS_KEY={world.admin.secret_key}")
    print("  unset AWS_SESSION_TOKEN AWS_PROFILE")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    print("sandbox stopped.")
    return 0
