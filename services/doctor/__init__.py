"""The permissions doctor: from an "access forbidden" error to the cause, the smallest safe fix
and proof.

In the order a diagnosis runs (`engine` runs them and decides when to stop early):
`request_facts` reads the request (fields, then the error text `parse` reads, then the wizard's
defaults, each default an `Assumption`) and says what is missing (a `Need` with its `Remedy`);
`evidence` gathers read-only facts in parallel (each a recorded `reads.Read`); `layers`
evaluates every policy layer with services.policy; `findings` builds the findings from the
evaluated `case`: `explicit_denies`, `missing_allows`, `layer_refusals` and the non-blocking
`notes`, with `choose_fix` and `fixes` planning the changes; `verdict` gives the verdict and the
trace; `crosscheck` asks IAM's simulator. `model` holds the values, `report` renders text, JSON
(the README's `--json` contract) and the redacted "send to admin" Markdown, `probe` re-tries the request as
the principal after a fix.
"""
