#!/bin/bash
# sagewiz idle auto-stop: stop this notebook instance after IDLE_MINUTES without Jupyter activity.
# Runs every 5 minutes from cron; the log is /var/log/sagewiz-autostop.log. The execution role
# needs sagemaker:StopNotebookInstance and sagemaker:DescribeNotebookInstance on this instance.
set -euo pipefail
IDLE_MINUTES=__IDLE_MINUTES__
cat > /usr/local/bin/sagewiz-autostop.py <<'PY'
import datetime, json, ssl, subprocess, sys, urllib.request

idle = datetime.timedelta(minutes=int(sys.argv[1]))
now = datetime.datetime.now(datetime.timezone.utc)
ctx = ssl._create_unverified_context()  # Jupyter on the instance uses a self-signed certificate


def get(path):
    with urllib.request.urlopen("https://localhost:8443" + path, context=ctx, timeout=10) as r:
        return json.load(r)


def parse(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))


last = parse(get("/api/status")["last_activity"])
for session in get("/api/sessions"):
    kernel = session.get("kernel") or {}
    if kernel.get("execution_state") == "busy":
        sys.exit(0)
    if kernel.get("last_activity"):
        last = max(last, parse(kernel["last_activity"]))
if now - last < idle:
    sys.exit(0)
meta = json.load(open("/opt/ml/metadata/resource-metadata.json"))
print(now.isoformat(), "idle since", last.isoformat(), "- stopping", meta["ResourceName"], flush=True)
subprocess.run(["aws", "sagemaker", "stop-notebook-instance", "--notebook-instance-name", meta["ResourceName"]], check=True)
PY
echo "*/5 * * * * root /usr/bin/python3 /usr/local/bin/sagewiz-autostop.py ${IDLE_MINUTES} >> /var/log/sagewiz-autostop.log 2>&1" > /etc/cron.d/sagewiz-autostop
