"""Execution roles for SageMaker: which roles it can assume, and a least-privilege one to create.

- `documents`: the trust policy (sagemaker.amazonaws.com, only for this account), the
  least-privilege policy, and why SageMaker could not assume a role (`sagemaker_role_problem`).
- `listing`: `list_execution_roles`, `check_role_assumable`, and the checks of a role name or ARN.
- `creation`: `RoleSpec` and `plan_create_role`, the plan the Notebook step confirms.
- `pass_role`: `check_pass_role`: may the caller pass the role to SageMaker.
"""
