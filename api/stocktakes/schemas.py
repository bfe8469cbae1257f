"""A stock-take as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.custody.stocktakes import StocktakeStatus


class LineOut(BaseModel):
    item: str
    outcome: str = Field(
        description="found (held there per the log and scanned), missing (held there, not scanned), unexpected "
        "(scanned there, held elsewhere per the log: an orphan); scanned while the stock-take is open"
    )
    custodian: str | None = Field(description="Where the log places the box now (custody did not move)")
    status: str | None = Field(description="The box's custody status now")
    evidence: list[int] = Field(description="Log indexes: the box's first stocktake scan, and the closing")


class StocktakeOut(BaseModel):
    log_id: str
    id: str = Field(description="Chosen by the scanner; begins with the site's code, e.g. 53.03.08-SO-20261207")
    site: str
    site_name: str | None
    status: StocktakeStatus
    opened_at: datetime = Field(description="Its first scan's time, as the phone observed it")
    closed_at: datetime | None
    close_index: int | None = Field(description="The log index of its `stocktake_close` entry")
    scanned: int = Field(description="Boxes scanned")
    found: list[str]
    missing: list[str]
    unexpected: list[str]
    lines: list[LineOut] = Field(description="Box by box: missing, then unexpected, then found")
