"""The parts of a sandbox training run; `services.sandbox.trainer` starts, stops and finishes runs.

- `run`: one run's state, its pace, the job's status transitions and how a run ends early;
- `host_logs`: each host's CloudWatch log stream, in the algorithm's own line format;
- `job_data`: the input channels read, and the model written, as the execution role;
- `xgboost_learner`, `image_learner`: the two algorithms, really trained on this machine.
"""
