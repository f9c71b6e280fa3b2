"""The Permissions step's services: read the bucket's and the role's permission state, explain
what is wrong, plan fixes as policy changes, apply them with a journaled backup, undo, and prove
the role's access.

Modules: `state` (reads), `matcher` (small IAM statement matcher), `findings`, `validate`,
`fixes` (plans, reused by the doctor), `apply` (the shared apply/undo machinery), `proof`.
"""
