"""Dependencies shared by the routers, as ``Annotated`` aliases.

An endpoint asks for the services it uses, each by its own alias (`SequencerDep`,
`DatabasesDep`, `KeysDep`...), and hands them to the service functions it calls: no
endpoint (and no function in models/) gets the whole Runtime, which only builds the
services at start-up and closes them at shutdown (models/runtime.py)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import OAuth2PasswordBearer
from models.accounts import policy
from models.accounts.actor import Actor
from models.accounts.standing import Standings
from models.core.db import Database
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
from api.limits import PerClientRate


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


def get_session(request: Request, databases: DatabasesDep) -> Iterator[Session]:
    """A read session on the database of the log the path names (its `log_id`, or an
    `item_id`, which starts with its regency's code), else on the home database.
    Endpoints that write open their own transaction."""
    path = request.path_params
    with databases.for_log(path.get("log_id") or path.get("item_id") or "").reads() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

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


async def current_actor(
    keys: KeysDep, settings: SettingsDep, standings: StandingsDep, token: Annotated[str | None, Depends(_bearer)]
) -> Actor:
    if token is None:
        raise HTTPException(401, "sign in first: no bearer token", headers=_CHALLENGE)
    try:
        return await tokens.admit(keys, settings, standings, token)
    except tokens.BadToken as error:
        raise HTTPException(401, str(error), headers=_CHALLENGE) from error


_CHALLENGE = {"WWW-Authenticate": "Bearer"}
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
        raise HTTPException(422, "a national account names the area: site=53.03")
    policy.permit(actor, action, at=code)
    return code


def actor_log(actor: Actor, action: str, requested: str | None) -> str:
    """The regency log an actor takes `action` in: theirs, or the one a national account
    names; a log outside their jurisdiction is refused."""
    if actor.jurisdiction:
        log_id = check_log_id(requested) if requested else regency_of(actor.jurisdiction)
    elif requested is None:
        raise HTTPException(422, "a national account says which regency's log: log=53.03")
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


def public_wait(request: Request, settings: Settings) -> int:
    """Seconds this client must wait before its next public check (0: go on)."""
    rate = client_rate(request, "public_rate", settings.public_checks_per_minute)
    return math.ceil(rate.take(client_address(request)))


def public_rate(request: Request, settings: SettingsDep) -> None:
    """Refuse (429) a client over its rate of public checks."""
    if wait := public_wait(request, settings):
        raise HTTPException(
            429, "too many public checks from your address; try again shortly",
            headers={"Retry-After": str(wait)},
        )
