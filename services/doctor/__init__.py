"""The permissions doctor: from an "access forbidden" error to the cause, the smallest safe fix
and proof. `parse` reads error texts, `evidence` gathers read-only facts in parallel, `engine`
evaluates them with services.policy and produces findings, `fixes` plans the changes, `report`
renders text, JSON (the README's `--json` contract) and the redacted "send to admin" Markdown.
"""
