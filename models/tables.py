"""Every table, imported so that each is registered on Base.metadata (Alembic and the
runtime import this module; models/__init__.py imports nothing, so that the pure
modules of models/ load without the database layer)."""

from models.accounts.enrollment import Enrollment
from models.accounts.trail import AuditRecord
from models.accounts.users import User
from models.core.base import Base
from models.custody.alerts import Alert
from models.custody.devices import Device
from models.custody.events import Event
from models.custody.handoffs import Handoff
from models.custody.items import Item
from models.custody.kits import StationKit
from models.custody.labels import LabelKey
from models.custody.stocktakes import Stocktake
from models.log.tables import Log, LogCheckpoint, LogCosignature, LogEntry, LogTile, LogTreeNode
from models.places.sites import Site
from models.webhooks.subscriptions import Delivery, Subscription

__all__ = [
    "Alert",
    "AuditRecord",
    "Base",
    "Delivery",
    "Device",
    "Enrollment",
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
    "StationKit",
    "Stocktake",
    "Subscription",
    "User",
]
