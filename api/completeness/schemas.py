"""Completeness per TPS as the API shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from models.custody.completeness import State
from models.places.codes import Kerawanan, SiteLevel


class CountsOut(BaseModel):
    complete: int = Field(description="TPS whose whole kit has reached them")
    incomplete: int = Field(description="TPS that have part of their kit")
    not_started: int = Field(description="TPS none of whose kit has reached them")


class AreaCompletenessOut(BaseModel):
    code: str
    name: str
    counts: CountsOut


class MissingOut(BaseModel):
    code: str = Field(description="The contest or kind code missing, e.g. BUP")
    item: str | None = Field(description="The item; null when no such item was ever registered for the TPS")
    custodian: str | None = Field(description="Where the log places it now")
    status: str | None = Field(description="Its custody status, e.g. in_transit")
    dispatch_to: str | None = Field(description="Where it is on its way to, while in transit")


class StationOut(BaseModel):
    code: str
    name: str
    kerawanan: Kerawanan | None
    need_by: datetime | None = Field(description="When it needs its kit (JEJAK_VOTING_DAY less its lead days)")
    state: State
    required: int = Field(description="Pieces of its kit: its contests' boxes and every other item registered for it")
    reached: int = Field(description="Pieces that have reached it")
    missing: list[MissingOut]


class CompletenessOut(BaseModel):
    code: str
    name: str
    level: SiteLevel
    election: str = Field(description="pemilu or pilkada (JEJAK_ELECTION): it sets the kit")
    counts: CountsOut = Field(description="Its TPS, by state")
    areas: list[AreaCompletenessOut] = Field(description="Each area one level down, its TPS by state")
    stations: list[StationOut] = Field(
        description="The TPS not complete, sangat rawan first, then by need-by time, then code (at most `limit`)"
    )
    stations_total: int = Field(description="How many TPS are not complete, whatever the limit")
