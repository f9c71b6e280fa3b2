"""Ground Truth labeling: rules, request building, manifests, setup plans, jobs and terminal labeling."""
