"""Label keys: each KPU Kabupaten/Kota signs its items' labels with its own Ed25519
key, published in its log before the first label it signs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models.core.base import Base, UTCDateTime, utcnow
from models.core.errors import Unavailable

# batch.shared: kids a rotation retires in this batch (their rows change only as it ends).
RETIRING = "retiring_label_keys"


class LabelKey(Base):
    __tablename__ = "label_keys"

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    published_index: Mapped[int] = mapped_column(BigInteger)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_index: Mapped[int | None] = mapped_column(BigInteger)


class LabelKeyRetired(Unavailable):
    """A label was to be signed with a key just retired: this process reads the new
    key file on the next request."""

    title = "Label key rotated"
    retry_after = 1
