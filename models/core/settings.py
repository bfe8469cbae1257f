"""Configuration from the environment (prefix ``JEJAK_``; ``DATABASE_URL`` for the database)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal

from ledger.cosignature import CosignatureVerifier
from pydantic import AliasChoices, BeforeValidator, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_HOST = "jejak.localhost"
# A province (53 or 53.) or a regency (53.03): what JEJAK_LOG_DATABASES routes by.
_LOG_PREFIX = re.compile(r"\d{2}(\.(\d{2})?)?")


def _origins(value: Any) -> Any:
    """JEJAK_CORS_ORIGINS: scheme://host[:port] each, no path, no wildcard."""
    if not isinstance(value, str):
        return value
    origins = tuple(filter(None, re.split(r"[,\s]+", value)))
    for origin in origins:
        if not re.fullmatch(r"https?://[^/\s*]+", origin):
            raise ValueError(f"JEJAK_CORS_ORIGINS entry {origin!r} is not an origin like https://dashboard.example")
    return origins


def _networks(value: Any) -> Any:
    """JEJAK_WEBHOOK_ALLOWED_NETWORKS: CIDRs, comma-separated."""
    if not isinstance(value, str):
        return value
    networks = []
    for entry in filter(None, re.split(r"[,\s]+", value)):
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(
                f"JEJAK_WEBHOOK_ALLOWED_NETWORKS entry {entry!r} is not a network like 10.20.0.0/16"
            ) from error
    return tuple(networks)


_KERAWANAN = ("kurang_rawan", "rawan", "sangat_rawan")  # models/places/codes.py's Kerawanan


def _kerawanan(value: Any) -> Any:
    """JEJAK_ESCORT_REQUIRED: kerawanan, comma-separated; empty for none."""
    if not isinstance(value, str):
        return value
    chosen = frozenset(filter(None, re.split(r"[,\s]+", value)))
    if unknown := sorted(chosen - set(_KERAWANAN)):
        raise ValueError(f"JEJAK_ESCORT_REQUIRED names {', '.join(unknown)}: the kerawanan are {', '.join(_KERAWANAN)}")
    return chosen


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JEJAK_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default="sqlite:///./data/jejak.db",
        validation_alias=AliasChoices("DATABASE_URL", "JEJAK_DATABASE_URL"),
    )
    # The host part of every log origin (`<host>/log/53.03`): it names the log for ever.
    host: str = DEFAULT_HOST
    # Private keys (log signing keys, ...) live here, one file each, never in the database.
    keys_dir: Path = Path("data/keys")
    # How often the checkpointer looks for a grown log (DESIGN §4: at least once a second).
    checkpoint_interval: float = Field(default=0.5, gt=0, le=1.0)
    # The base of the public check URL printed in every label's QR code.
    public_url: str = "http://127.0.0.1:8000"
    # Access tokens are short-lived: a lost phone's session ends by itself.
    token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A scan synced this long after it was observed is flagged (offline is normal,
    # a day is not).
    late_scan_hours: float = Field(default=12, gt=0)
    # A scan located farther than this from its site's coordinates is flagged; positions
    # are trusted to this distance (GPS error, coordinates of a whole village).
    far_from_site_km: float = Field(default=2.0, gt=0)
    # Two scans of one box farther apart than this speed allows are flagged (a copied
    # label, a swapped box): mountain roads, so a car's top speed is generous.
    max_travel_kmh: float = Field(default=120, gt=0)
    # Scans of the return leg observed after this instant are flagged (unset: no deadline).
    return_deadline: datetime | None = None
    # The election run: it sets the ballot boxes each TPS must receive (its kit,
    # models/custody/completeness.py), and the day of the vote, by which the kits are
    # needed (unset: no need-by times).
    election: Literal["pemilu", "pilkada"] = "pilkada"
    voting_day: date | None = None
    # Hours a dispatch may go unreceived before it raises an alert, by the kerawanan of
    # where it goes: shorter where trouble is likelier.
    not_received_hours_kurang_rawan: float = Field(default=24, gt=0)
    not_received_hours_rawan: float = Field(default=12, gt=0)
    not_received_hours_sangat_rawan: float = Field(default=6, gt=0)
    not_received_hours_khusus: float = Field(default=12, gt=0)  # TPS khusus: prisons, hospitals
    # A dispatch to a destination of these kerawanan names an escort (`no_escort`); the
    # log records the requirement in its `rules` entries.
    escort_required: Annotated[frozenset[str], NoDecode, BeforeValidator(_kerawanan)] = frozenset(
        {"rawan", "sangat_rawan"}
    )
    # Minutes an escorted truckload may go without a named escort's pickup (`no_pickup`).
    pickup_minutes: float = Field(default=60, gt=0)
    # Seconds between looks for dispatches not received in time.
    not_received_check_interval: float = Field(default=60, gt=0)
    # Below this much free space on the database's or the keys' disk, /readyz says not
    # ready: writes are about to be refused 507, and a balancer should send elsewhere.
    min_free_disk_mb: int = Field(default=64, ge=0)
    # Hours a gap in a phone's scan numbers may stay open (later scans in the log, an
    # earlier one not) before it raises an alert: an offline phone syncs its whole
    # outbox in order, so a gap is a scan held back, lost or refused.
    device_gap_hours: float = Field(default=12, gt=0)
    # The largest request body accepted: an offline batch of 1,000 scans is ~1 MB.
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Public checks (check pages and the trails behind them) answered in full a second
    # by each worker process, whoever asks: beyond it 429, so a crowd cannot starve the
    # scans. Answers the client already holds (304) are free.
    public_checks_per_second: int = Field(default=500, ge=1)
    # And a minute per client address: high, since a carrier's NAT puts a whole town
    # behind one address; it only stops one client hammering. A phone opening one
    # label makes two.
    public_checks_per_minute: int = Field(default=3000, ge=1)
    # Other sites whose pages may call the API from a browser (CORS): origins
    # (`https://host[:port]`), comma-separated. None by default: only this service's pages.
    cors_origins: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_origins)] = ()
    # Password guessing: failed sign-ins a minute per client address (in bursts of as
    # many), and the failures in a row after which an account is locked, for how long.
    sign_in_failures_per_minute: int = Field(default=20, ge=1)
    sign_in_max_failures: int = Field(default=5, ge=1)
    sign_in_lock_minutes: float = Field(default=15, gt=0)
    # Onboarding (README "Onboarding officers"): days an enrollment code stays valid, and
    # what enrolling a new phone does to the account's earlier ones (the KPU's choice):
    # "revoke" them (one phone per officer) or "keep" them.
    enrollment_code_days: float = Field(default=14, gt=0, le=90)
    enroll_second_phone: Literal["revoke", "keep"] = "revoke"
    # Webhooks (README "Webhooks"): seconds between looks for deliveries due; the HTTP
    # timeout of one attempt; the first retry delay (doubled after each failure, with
    # jitter); failures in a row before a subscription is marked failing, and how often
    # it is retried then. webhook_delivery=false leaves sending to other processes.
    webhook_interval: float = Field(default=1.0, gt=0)
    webhook_timeout: float = Field(default=5.0, gt=0, le=30)
    webhook_backoff: float = Field(default=5.0, gt=0)
    webhook_attempts: int = Field(default=10, ge=1)
    webhook_failing_interval: float = Field(default=900, gt=0)
    webhook_delivery: bool = True
    # Networks webhooks may go to besides public addresses (README "Webhook
    # destinations"): CIDRs, comma-separated. None by default.
    webhook_allowed_networks: Annotated[
        tuple[IPv4Network | IPv6Network, ...], NoDecode, BeforeValidator(_networks)
    ] = ()
    # Read every hosted log's head as the server starts (models/log/sequencer.py `warm`), so
    # the first scans after a restart do not wait for it; false: each at its first append.
    read_heads_at_start: bool = True
    log_level: str = "INFO"
    # Witnesses that cosign every checkpoint (README "Witnesses"): `<url> <verifier key>`
    # pairs, separated by commas or newlines; the url is the witness's submission prefix.
    witnesses: Annotated[tuple[tuple[str, str], ...], NoDecode] = ()
    # Logs kept on other databases (docs/SCALING.md): regency-code prefixes and database
    # URLs, `53.=postgresql://a/jejak;52.01=postgresql://b/jejak` (the longest prefix
    # wins); every other log, the accounts and the sites stay on DATABASE_URL.
    log_databases: Annotated[tuple[tuple[str, str], ...], NoDecode] = ()

    @field_validator("database_url")
    @classmethod
    def _driver(cls, url: str) -> str:
        return with_driver(url)

    @field_validator("log_databases", mode="before")
    @classmethod
    def _log_routes(cls, value: Any) -> Any:
        def route(entry: str) -> tuple[str, str] | None:
            prefix, _, url = entry.partition("=")
            return (prefix, with_driver(url)) if _LOG_PREFIX.fullmatch(prefix) and url else None

        shape = "`<regency code prefix>=<database url>`, like 53.=postgresql://db-ntt/jejak"
        return _pairs("JEJAK_LOG_DATABASES", value, ";", route, shape, "prefix", 0)

    @field_validator("return_deadline")
    @classmethod
    def _aware(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("JEJAK_RETURN_DEADLINE needs a time zone, e.g. 2024-11-28T18:00:00+08:00")
        return moment

    @field_validator("witnesses", mode="before")
    @classmethod
    def _witness_pairs(cls, value: Any) -> Any:
        def witness(entry: str) -> tuple[str, str] | None:
            parts = entry.split()
            if len(parts) != 2 or not parts[0].startswith(("http://", "https://")):
                return None
            CosignatureVerifier.from_vkey(parts[1])  # a typo fails at start, not at a checkpoint
            return parts[0].rstrip("/"), parts[1]

        return _pairs("JEJAK_WITNESSES", value, ",", witness, "`<http(s) url> <verifier key>`", "witness key", 1)

    @model_validator(mode="after")
    def _production_needs_real_values(self) -> Settings:
        if self.environment == "production" and self.host == DEFAULT_HOST:
            raise ValueError(
                "JEJAK_HOST must be set in production: it is the public name in every log origin"
            )
        if self.environment == "production" and not self.public_url.startswith("https://"):
            raise ValueError("JEJAK_PUBLIC_URL must be an https:// URL in production")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def _pairs(
    variable: str,
    value: Any,
    separator: str,
    parse: Callable[[str], tuple[str, str] | None],
    shape: str,
    what: str,
    unique: int,
) -> Any:
    """A list setting's entries (split at `separator` or newlines), each made a pair by
    `parse` (None: not of `shape`); no two pairs may share their `unique` part."""
    if not isinstance(value, str):
        return value
    pairs = []
    for entry in filter(str.strip, re.split(f"[{separator}\n]", value)):
        pair = parse(entry.strip())
        if pair is None:
            raise ValueError(f"{variable} entry {entry.strip()!r} is not {shape}")
        pairs.append(pair)
    if len({pair[unique] for pair in pairs}) < len(pairs):
        raise ValueError(f"{variable} names the same {what} twice")
    return tuple(pairs)


def with_driver(url: str) -> str:
    """Plain `postgresql://` URLs (as Heroku-style platforms give them) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
