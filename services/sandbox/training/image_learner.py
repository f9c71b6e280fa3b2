"""Image classification in the sandbox: a small softmax learner on colour-layout features stands in
for the built-in ResNet, trained for real on the labeled images and logging epochs in the
algorithm's format (`Epoch[3] Validation-accuracy=0.8`)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

from services.sandbox.training.host_logs import stamp
from services.sandbox.training.run import ROUND_SECONDS, JobFailure, MaxRuntime, Run


def train_image_classifier(
    run: Run, data: dict[str, list[tuple[str, bytes]]], deadline: float
) -> dict[str, bytes]:
    import numpy as np

    from services.algorithms import image_classification as spec
    from services.sandbox.images import features

    hp = {k: str(v) for k, v in (run.request.get("HyperParameters") or {}).items()}
    errors = spec.validate(hp, channels=list(data))
    if errors:
        field_name, message = next(iter(errors.items()))
        raise JobFailure(f"ClientError: Hyperparameter validation failed for '{field_name}': {message}")
    n_classes = int(hp["num_classes"])

    def load(records: list[tuple[str, bytes]]) -> tuple[Any, Any]:
        xs, ys = [], []
        for label_json, img in records:
            label = json.loads(label_json)
            if isinstance(label, list):
                label = label[0] if label else 0
            y = int(label)
            if not 0 <= y < n_classes:
                raise JobFailure(f"ClientError: Label {y} is out of range for num_classes {n_classes}.")
            xs.append(features(img))
            ys.append(y)
        return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.int64)

    xtr, ytr = load(data["train"])
    xva, yva = load(data["validation"]) if "validation" in data else (xtr, ytr)
    mean, std = xtr.mean(axis=0), xtr.std(axis=0) + 1e-6
    xtr, xva = (xtr - mean) / std, (xva - mean) / std
    run.log(f"[{stamp()}:INFO] sandbox learner: softmax regression on 27 colour-layout features "
                  f"(stands in for the ResNet); {len(ytr)} training and {len(yva)} validation images")  # fmt: skip
    epochs = int(hp.get("epochs", "30"))
    lr = float(hp.get("learning_rate", "0.1"))
    batch = max(1, min(int(hp.get("mini_batch_size", "32")), len(ytr)))
    momentum = float(hp.get("momentum", "0.9")) if hp.get("optimizer", "sgd") in ("sgd", "nag") else 0.0
    wd = float(hp.get("weight_decay", "0.0001"))
    rng = np.random.default_rng(0)
    w = np.zeros((xtr.shape[1], n_classes))
    b = np.zeros(n_classes)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    per_epoch = ROUND_SECONDS / max(epochs, 1)

    def acc(x: Any, y: Any) -> float:
        return float(np.mean(np.argmax(x @ w + b, axis=1) == y)) if len(y) else 0.0

    for epoch in range(epochs):
        t0 = time.monotonic()
        order = rng.permutation(len(ytr))
        for start in range(0, len(ytr), batch):
            idx = order[start : start + batch]
            logits = xtr[idx] @ w + b
            logits -= logits.max(axis=1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), ytr[idx]] -= 1
            gw = xtr[idx].T @ p / len(idx) + wd * w
            gb = p.mean(axis=0)
            vw = momentum * vw - lr * gw
            vb = momentum * vb - lr * gb
            w, b = w + vw, b + vb
        run.log(f"Epoch[{epoch}] Train-accuracy={acc(xtr, ytr):.6f}")
        run.log(f"Epoch[{epoch}] Time cost={time.monotonic() - t0:.3f}")
        run.log(f"Epoch[{epoch}] Validation-accuracy={acc(xva, yva):.6f}")
        run.flush()
        if time.monotonic() > deadline:
            raise MaxRuntime()
        run.wait(per_epoch)
    buf = io.BytesIO()
    np.savez(buf, weights=w, bias=b, mean=mean, std=std)
    return {"sandbox-softmax-params.npz": buf.getvalue()}
