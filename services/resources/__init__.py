"""The registry of resource kinds: for each `ResourceKind`, how to read its state, price it, stop
it and delete it. Clean-up and resume ask here; journal writers name kinds by the enum."""

from services.resource_kinds import ResourceKind
from services.resources.handler import KindHandler
from services.resources.record import Resource
from services.resources.registry import HANDLERS, describe, handler_for, tags_of

__all__ = ["HANDLERS", "KindHandler", "Resource", "ResourceKind", "describe", "handler_for", "tags_of"]
