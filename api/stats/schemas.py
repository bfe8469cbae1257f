"""Shapes of the statistics API."""

from __future__ import annotations

from models.places.sites import SiteLevel
from pydantic import BaseModel, ConfigDict, Field


class StageCounts(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    outbound: dict[str, int] = Field(
        description="Items by stage on the way out, in route order: kpu (warehouse), in_transit, "
        "ppk, pps, tps, voting (opened or counted)"
    )
    back: dict[str, int] = Field(
        alias="return",
        description="Items by stage on the way back after counting: tps, in_transit, pps, ppk, kpu",
    )
    total: int


class AreaOut(BaseModel):
    code: str
    name: str
    level: SiteLevel
    lat: float | None
    lon: float | None
    coords_synthetic: bool
    items: StageCounts


class ProgressOut(BaseModel):
    site: AreaOut = Field(description="The area asked for, with all its items")
    areas: list[AreaOut] = Field(description="Each area one level down, in code order")
