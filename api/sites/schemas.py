from __future__ import annotations

from models.core.inputs import FreeText
from models.places.sites import Kerawanan, SiteLevel
from pydantic import BaseModel, ConfigDict, Field


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(examples=["53.03.08.2001-003"])
    level: SiteLevel
    name: str
    parent_code: str | None
    regency: str
    kerawanan: Kerawanan | None
    special: bool = Field(description="TPS khusus (prisons, hospitals...)")
    lat: float | None
    lon: float | None
    coords_synthetic: bool = Field(description="True where the coordinates are invented for a demo")


class SitePage(BaseModel):
    sites: list[SiteOut]
    next: str | None


class TpsIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": "53.03.08.2001-004", "name": "TPS 004", "kerawanan": "rawan"}]},
    )

    code: str = Field(pattern=r"^\d{2}\.\d{2}\.\d{2}\.\d{4}-\d{3}$", examples=["53.03.08.2001-004"])
    name: FreeText = Field(min_length=1, max_length=200)
    kerawanan: Kerawanan = Kerawanan.KURANG_RAWAN
    special: bool = False
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
