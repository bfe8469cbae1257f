"""Dependencies shared by the routers, as ``Annotated`` aliases.

An endpoint asks for the services it uses, each by its own alias (`SequencerDep`,
`DatabasesDep`, `KeysDep`...), and hands them to the service functions it calls: no
endpoint (and no function in models/) gets the whole Runtime, which only builds the
services at start-up and closes them at shutdown (models/runtime.py)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Annotated, Any, NamedTuple, TypeVar

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from models.accounts import policy
from models.accounts.actor import Actor
from models.accounts.standing import Standings
from models.core.db import Database
from models.core.errors import Unprocessable, TooManyRequests, Unauthenticated
from models.core.routing import Databases
from models.core.settings import Settings
from models.core.times import TIME_FORMAT, parse_time
from models.custody.devices import DeviceKeys
from models.log.keys import KeyStore
from models.log.reads import LOG_ID, check_log_id
from models.log.sequencer import Sequencer
from models.log.tiles import TileStore
from models.log.witnesses import Witness
from models.places.sites import regency_of
from models.webhooks.delivery import Deliverer
from pydantic import AwareDatetime, BeforeValidator
from sqlalchemy.orm import Session

from api.auth import tokens
from api.limits import PerClientRate, PublicReads


def _service(name: str) -> Any:
    """The dependency on one of the app's services: the Runtime's attribute `name`, read
    on each request (a test may put another in its place)."""

    # Dependencies that only compute are `async def`: FastAPI runs a plain `def` one in a
    # worker thread, a hop that costs more than the work.
    async def service(request: Request) -> Any:
        return getattr(request.app.state.runtime, name)

    service.__name__ = f"get_{name}"
    return Depends(service)


SettingsDep = Annotated[Settings, _service("settings")]
# The database each log lives on (`.for_log(code)`: a log, site or item code).
DatabasesDep = Annotated[Databases, _service("databases")]
# The home database: accounts, sites, webhooks, the audit trail.
DbDep = Annotated[Database, _service("db")]
KeysDep = Annotated[KeyStore, _service("keys")]
StandingsDep = Annotated[Standings, _service("standings")]
TilesDep = Annotated[TileStore, _service("tiles")]
SequencerDep = Annotated[Sequencer, _service("sequencer")]
DeviceKeysDep = Annotated[DeviceKeys, _service("device_keys")]
# The witnesses this server is configured with (JEJAK_WITNESSES).
WitnessesDep = Annotated[list[Witness], _service("witnesses")]
WebhooksDep = Annotated[Deliverer, _service("webhooks")]


class IngestServices(NamedTuple):
    """What taking in scans uses, as one dependency rather than four: every single scan
    pays FastAPI's resolving of each, and that is the hottest path the service has."""

    databases: Databases
    devices: DeviceKeys
    sequencer: Sequencer
    settings: Settings


async def _ingest_services(request: Request) -> IngestServices:
    runtime = request.app.state.runtime
    return IngestServices(runtime.databases, runtime.device_keys, runtime.sequencer, runtime.settings)


IngestDep = Annotated[IngestServices, Depends(_ingest_services)]


def get_session(request: Request, databases: DatabasesDep) -> Iterator[Session]:
    """A read session on the database of the log the path names (its `log_id`, or an
    `item_id`, which starts with its regency's code), else on the home database.
    Endpoints that write open their own transaction."""
    path = request.path_params
    with databases.for_log(path.get("log_id") or path.get("item_id") or "").reads() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

R = TypeVar("R")
# The checkpoint and tiles are what verifiers, mirrors and the check pages' scripts need
# at once whatever else is going on: their reads run in threads of their own. A crowd's
# box histories run in a few threads of theirs, waiting their turn in a queue rather
# than as forty threads taking turns at the interpreter's lock, which is what a
# checkpoint read would queue behind.
_QUICK_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="quick-read")
_PUBLIC_READS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="public-read")


async def quick_read(databases: Databases, log_id: str, read: Callable[[Session], R]) -> R:
    """`read(session)` on the log's database, in the quick reads' own threads."""
    return await _read_in(_QUICK_READS, databases, log_id, read)


async def public_read(databases: Databases, log_id: str, read: Callable[[Session], R]) -> R:
    """`read(session)` on the log's database (`log_id`: a log, or an item's id), in the
    public reads' threads."""
    return await _read_in(_PUBLIC_READS, databases, log_id, read)


async def _read_in(threads: ThreadPoolExecutor, databases: Databases, log_id: str, read: Callable[[Session], R]) -> R:
    def run() -> R:
        with databases.for_log(log_id).reads() as session:
            return read(session)

    return await asyncio.get_running_loop().run_in_executor(threads, run)


def _instant(value: Any) -> datetime:
    # The same rule as a scan's time: RFC 3339 with its zone (a time without one is
    # ambiguous by hours; a number of Unix seconds, which pydantic would take, is a
    # filter that silently means 1970).
    if not isinstance(value, str):
        raise ValueError(TIME_FORMAT)
    return parse_time(value)


# A time in a query.
Instant = Annotated[AwareDatetime, BeforeValidator(_instant)]

LogIdPath = Annotated[
    str,
    Path(
        pattern=LOG_ID.pattern,
        description="The log's regency code, e.g. 53.03",
        examples=["53.03"],
    ),
]


_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def current_actor(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Actor:
    if token is None:
        raise Unauthenticated("sign in first: no bearer token")
    # The services straight from the runtime, not as three more dependencies: every
    # signed-in request pays FastAPI's resolving of each (a tenth of a single scan's
    # time went to resolving its dozen).
    runtime = request.app.state.runtime
    try:
        return await tokens.admit(runtime.keys, runtime.settings, runtime.standings, token)
    except tokens.BadToken as error:
        raise Unauthenticated(str(error), code="invalid_token") from error

CurrentActor = Annotated[Actor, Depends(current_actor)]


def Permit(action: str) -> Any:  # noqa: N802: read as a type, `actor: Permit("alerts.list")`
    """The signed-in actor, if the policy lets them take `action` (before its target is
    known; endpoints then call `policy.permit(actor, action, at=...)` on the target).
    Each endpoint names its action this way, once: tests/test_authorization.py reads it."""
    policy.POLICY[action]  # an unknown action fails as the app is built, not on a request

    async def permitted(actor: CurrentActor) -> Actor:
        policy.permit(actor, action)
        return actor

    permitted.action = action  # type: ignore[attr-defined]
    return Annotated[Actor, Depends(permitted)]


def actor_area(actor: Actor, action: str, requested: str | None) -> str:
    """The area an actor takes `action` in: the one asked for, else their jurisdiction
    (a national account names one); refused outside the jurisdiction."""
    code = requested or actor.jurisdiction
    if not code:
        raise Unprocessable("a national account names the area: site=53.03", code="area_required")
    policy.permit(actor, action, at=code)
    return code


def actor_log(actor: Actor, action: str, requested: str | None) -> str:
    """The regency log an actor takes `action` in: theirs, or the one a national account
    names; a log outside their jurisdiction is refused."""
    if actor.jurisdiction:
        log_id = check_log_id(requested) if requested else regency_of(actor.jurisdiction)
    elif requested is None:
        raise Unprocessable("a national account says which regency's log: log=53.03", code="log_required")
    else:
        log_id = check_log_id(requested)
    policy.permit(actor, action, log=log_id)
    return log_id


def client_rate(request: Request, name: str, per_minute: int) -> PerClientRate:
    """The app's limit `name` per client address, made on first use."""
    state = request.app.state
    if not hasattr(state, name):
        setattr(state, name, PerClientRate(per_minute))
    rate: PerClientRate = getattr(state, name)
    return rate


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def failures_of(request: Request, name: str, per_minute: int, refusal: str) -> tuple[PerClientRate, str]:
    """The app's count `name` of this client address's failures (wrong passwords, wrong
    enrollment codes) and the address; a client over it is refused (429, Retry-After)."""
    failures, address = client_rate(request, name, per_minute), client_address(request)
    if wait := failures.wait(address):
        raise TooManyRequests(refusal, math.ceil(wait))
    return failures, address


def _public_reads(request: Request, settings: Settings) -> PublicReads:
    state = request.app.state
    if not hasattr(state, "public_reads"):
        state.public_reads = PublicReads(settings.public_checks_per_second, settings.public_checks_per_minute)
    limits: PublicReads = state.public_reads
    return limits


def public_wait(request: Request, settings: Settings) -> int:
    """Seconds this client must wait before its next public check (0: go on); counts
    nothing (an answer from the client's cache is free): `public_spend` counts."""
    return math.ceil(_public_reads(request, settings).wait(client_address(request)))


def public_spend(request: Request, settings: Settings) -> None:
    """Count a public check answered in full."""
    _public_reads(request, settings).spend(client_address(request))


def public_refusal(wait: int) -> TooManyRequests:
    return TooManyRequests("too many public checks just now; try again shortly", wait)


def public_rate(request: Request, settings: SettingsDep) -> None:
    """Refuse (429) a public check over the limits, else count it."""
    if wait := public_wait(request, settings):
        raise public_refusal(wait)
    public_spend(request, settings)
