"""Persistence and custody rules. Imports ledger/, never api/."""

from models.base import Base
from models.log import Log, LogCheckpoint, LogEntry, LogTreeNode

__all__ = ["Base", "Log", "LogCheckpoint", "LogEntry", "LogTreeNode"]
