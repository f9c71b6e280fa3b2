"""Clean up: everything sagewiz created, with its state and hourly cost, and plans to stop or
delete some or all of it. Nothing else is ever touched unless the person names it explicitly.

- `listing`: the inventory, what exists (journal + `sagewiz:created-by` tag), read from AWS; `lookup` by name
- `plans`: `plan_stop`, `plan_delete` (a bucket's deletion needs a second confirmation)
- `apply`: `apply_cleanup`, running a plan step by step into the journal
- `waiting`: the one notebook waiter (SageMaker stops and deletes only settled notebooks)

What each kind of resource can do (read, price, stop, delete) is in `services/resources/`.
"""

from services.cleanup.apply import apply_cleanup
from services.cleanup.listing import Inventory, inventory, lookup
from services.cleanup.plans import CleanupPlan, plan_delete, plan_stop
from services.resources import Resource

__all__ = [
    "CleanupPlan",
    "Inventory",
    "Resource",
    "apply_cleanup",
    "inventory",
    "lookup",
    "plan_delete",
    "plan_stop",
]
