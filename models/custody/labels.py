"""Label keys: each KPU Kabupaten/Kota signs its items' labels with its own Ed25519
key, published in its log before the first label it signs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.core.base import Base, UTCDateTime, utcnow
from models.core.errors import Unavailable

if TYPE_CHECKING:
    from models.log.sequencer import Batch

class LabelKeysInBatch:
    """A batch's label keys not yet in the table (a Batch.state): those an earlier
    request published, and those a rotation retires (their rows change only as the
    batch ends)."""

    def __init__(self, batch: Batch) -> None:
        self.published: set[str] = set()
        self.retiring: set[str] = set()


class LabelKey(Base):
    __tablename__ = "label_keys"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    published_index: Mapped[int] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_index: Mapped[int | None] = mapped_column(BigInteger)


def label_keys_of(session: Session, log_id: str) -> list[LabelKey]:
    """Every key that signs or signed the log's labels, in the order the log published them."""
    return list(session.scalars(select(LabelKey).where(LabelKey.log_id == log_id).order_by(LabelKey.published_index)))


class LabelKeyRetired(Unavailable):
    """A label was to be signed with a key just retired: this process reads the new
    key file on the next request."""

    title = "Label key rotated"
    retry_after = 1
