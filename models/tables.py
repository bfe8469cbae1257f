"""Every table, imported so that each is registered on Base.metadata (Alembic and the
runtime import this module; models/__init__.py imports nothing, so that the pure
modules of models/ load without the database layer)."""

from models.alerts import Alert
from models.audit import AuditRecord
from models.base import Base
from models.devices import Device
from models.events import Event
from models.handoffs import Handoff
from models.items import Item
from models.labels import LabelKey
from models.log import Log, LogCheckpoint, LogCosignature, LogEntry, LogTile, LogTreeNode
from models.sites import Site
from models.users import User
from models.webhooks import Delivery, Subscription

__all__ = [
    "Alert",
    "AuditRecord",
    "Base",
    "Delivery",
    "Device",
    "Event",
    "Handoff",
    "Item",
    "LabelKey",
    "Log",
    "LogCheckpoint",
    "LogCosignature",
    "LogEntry",
    "LogTile",
    "LogTreeNode",
    "Site",
    "Subscription",
    "User",
]
