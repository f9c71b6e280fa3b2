"""XGBoost, really trained on this machine on the CSV or libsvm channels, logging each round as
the SageMaker XGBoost container does (`[n]#011train-merror:0.1#011validation-merror:0.2`)."""

from __future__ import annotations

import io
import os
import time
from typing import Any

from services.sandbox.training.host_logs import stamp
from services.sandbox.training.run import ROUND_SECONDS, Abandoned, JobFailure, MaxRuntime, Run, Stopped

_XGB_ONLY_SERVICE = {
    "num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination", "_tuning_objective_metric",
    "eval_metric", "_kfold", "_num_cv_round", "deterministic_histogram", "single_precision_histogram",
    "lambda_bias", "predictor", "updater", "use_dask_gpu_training", "prob_buffer_row", "verbosity",
}  # fmt: skip


def _matrix(run: Run, objects: list[tuple[str, bytes]], content_type: str, weights: bool) -> Any:
    import numpy as np
    import xgboost as xgb

    if "libsvm" in content_type:
        import tempfile

        with tempfile.NamedTemporaryFile("wb", suffix=".libsvm", delete=False) as fh:
            for _, body in objects:
                fh.write(body if body.endswith(b"\n") else body + b"\n")
            path = fh.name
        try:
            return xgb.DMatrix(f"{path}?format=libsvm")
        finally:
            os.unlink(path)
    rows = []
    for uri, body in objects:
        try:
            arr = np.loadtxt(io.BytesIO(body), delimiter=",", ndmin=2, dtype=np.float64)
        except ValueError as exc:
            raise JobFailure(f"ClientError: Unable to read data channel {uri} as CSV (label first, no header): {exc}") from exc  # fmt: skip
        if arr.size:
            rows.append(arr)
    if not rows:
        raise JobFailure("ClientError: The data channel holds no rows.")
    data = np.vstack(rows)
    if weights:
        return xgb.DMatrix(data[:, 2:], label=data[:, 0], weight=data[:, 1])
    return xgb.DMatrix(data[:, 1:], label=data[:, 0])


def train_xgboost(run: Run, data: dict[str, list[tuple[str, bytes]]], deadline: float) -> dict[str, bytes]:
    import xgboost as xgb

    from services.algorithms import xgboost as spec

    hp = {k: str(v) for k, v in (run.request.get("HyperParameters") or {}).items()}
    errors = spec.validate(hp, channels=list(data))
    if errors:
        field_name, message = next(iter(errors.items()))
        raise JobFailure(f"ClientError: Hyperparameter validation failed for '{field_name}': {message}")
    ct = {c["ChannelName"]: str(c.get("ContentType") or "text/libsvm") for c in run.request.get("InputDataConfig") or []}  # fmt: skip
    weights = hp.get("csv_weights") == "1"
    run.log(f"[{stamp()}:INFO] Imported framework sagemaker_xgboost_container.training")
    run.log(f"[{stamp()}:INFO] Running XGBoost Sagemaker in algorithm mode (sandbox: xgboost {xgb.__version__} on CPU)")  # fmt: skip
    dtrain = _matrix(run, data["train"], ct.get("train", ""), weights)
    run.log(f"[{stamp()}:INFO] Train matrix has {dtrain.num_row()} rows and {dtrain.num_col()} columns")
    evals = [(dtrain, "train")]
    if "validation" in data:
        dval = _matrix(run, data["validation"], ct.get("validation", ""), weights)
        run.log(f"[{stamp()}:INFO] Validation matrix has {dval.num_row()} rows")
        evals.append((dval, "validation"))
    hosts = len(run.hosts)
    run.log(f"[{stamp()}:INFO] {'Distributed node training with ' + str(hosts) + ' hosts' if hosts > 1 else 'Single node training.'}")  # fmt: skip
    params: dict[str, Any] = {}
    for k, v in hp.items():
        hpspec = next((h for h in spec.HYPERPARAMETERS if h.name == k or k in h.aliases), None)
        if k in _XGB_ONLY_SERVICE or k.startswith("_") or hpspec is None:
            continue
        params[hpspec.name] = v
    if params.get("objective") == "reg:linear":
        params["objective"] = "reg:squarederror"
    if params.get("tree_method") == "gpu_hist":
        params["tree_method"] = "hist"
        run.log(f"[{stamp()}:WARNING] sandbox: no GPU here; tree_method gpu_hist runs as hist.")
    params["eval_metric"] = spec.eval_metrics(hp)
    params.setdefault("verbosity", "0")
    # One thread: OpenMP workers spin after each round and would starve the emulator and the UI
    # sharing this machine (observed: 30x slower rounds with nthread=2 beside a running TUI).
    params["nthread"] = "1"
    num_round = int(hp.get("num_round", "1"))
    per_round = ROUND_SECONDS / max(num_round, 1)

    class Monitor(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            parts = [f"[{epoch}]"]
            for data_name, metrics in evals_log.items():
                for metric, values in metrics.items():
                    parts.append(f"{data_name}-{metric}:{values[-1]:.5f}")
            run.log("#011".join(parts))
            if (epoch + 1) % 10 == 0:
                run.flush()
            if time.monotonic() > deadline:
                raise MaxRuntime()
            run.wait(per_round)
            return False

    kwargs: dict[str, Any] = {}
    if hp.get("early_stopping_rounds"):
        kwargs["early_stopping_rounds"] = int(hp["early_stopping_rounds"])
    try:
        booster = xgb.train(params, dtrain, num_boost_round=num_round, evals=evals, callbacks=[Monitor()],
                            verbose_eval=False, **kwargs)  # fmt: skip
    except (Stopped, MaxRuntime, Abandoned, JobFailure):
        raise
    except xgb.core.XGBoostError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "XGBoost error"
        raise JobFailure(f"AlgorithmError: framework error: {first}") from exc
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "xgboost-model.ubj")
        booster.save_model(path)
        with open(path, "rb") as fh:
            return {"xgboost-model": fh.read()}
