"""Webhook subscriptions for integrators: custody events and alerts pushed as they
happen, signed per the Standard Webhooks spec (README "Webhooks")."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response
from models.accounts import policy
from models.accounts.actor import Actor, Role
from models.core.errors import InvalidRequest, NotFound
from models.places.sites import level_of
from models.webhooks.destinations import Destinations
from models.webhooks.subscriptions import (
    Subscription,
    check_url,
    create_subscription,
    delete_subscription,
    get_delivery,
    get_subscription,
    list_deliveries,
    list_subscriptions,
)
from sqlalchemy.orm import Session

from api import paging
from api.deps import DbDep, Permit, SessionDep, SettingsDep, WebhooksDep
from api.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    NewSubscriptionOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPage,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

WebhookManager = Permit("webhooks.manage")
DeliveryNumber = Annotated[int, Path(ge=1, le=2**62)]


def _owner(actor: Actor) -> uuid.UUID | None:
    """Integrators see their own subscriptions; KPU and admins all in their jurisdiction."""
    return actor.id if actor.role is Role.INTEGRATOR else None


def _subscription(session: Session, actor: Actor, subscription_id: uuid.UUID) -> Subscription:
    subscription = get_subscription(session, subscription_id, owner=_owner(actor))
    policy.permit(actor, "webhooks.manage", at=subscription.jurisdiction)
    return subscription


@router.post("", status_code=201)
def subscribe(body: SubscriptionIn, actor: WebhookManager, db: DbDep, settings: SettingsDep) -> NewSubscriptionOut:
    """Subscribe a URL to the events and/or alerts of a jurisdiction from now on. The
    URL's host must be at a public address (README "Webhook destinations"). The answer
    carries the signing secret, shown this once."""
    level_of(body.jurisdiction)  # a malformed code is a 400, not someone else's area
    policy.permit(actor, "webhooks.manage", at=body.jurisdiction)
    for kind in body.kinds:  # an integrator is sent only what it may list
        policy.permit(actor, f"{kind}.list")
    url = check_url(body.url, Destinations.of(settings))  # before the write lock: it asks DNS
    with db.session(write=True) as session:
        subscription = create_subscription(
            session, owner=actor, url=url, kinds=body.kinds, jurisdiction=body.jurisdiction
        )
        return NewSubscriptionOut.model_validate(subscription)


@router.get("")
def subscriptions(
    pager: paging.PagerDep,
    actor: WebhookManager, session: SessionDep, cursor: paging.Cursor = None, limit: paging.Limit = 100
) -> SubscriptionPage:
    """Your subscriptions (integrators), or all in your jurisdiction (KPU, admins)."""
    after = paging.decode(cursor, str)
    rows = list_subscriptions(
        session,
        jurisdiction=actor.jurisdiction,
        owner=_owner(actor),
        after=_uuid(after[0]) if after else None,
        limit=limit + 1,
    )
    rows, next_page = pager.page(rows, limit, lambda s: [str(s.id)])
    return SubscriptionPage(webhooks=[SubscriptionOut.model_validate(s) for s in rows], next=next_page)


@router.get("/{subscription_id}")
def subscription(subscription_id: uuid.UUID, actor: WebhookManager, session: SessionDep) -> SubscriptionOut:
    return SubscriptionOut.model_validate(_subscription(session, actor, subscription_id))


@router.delete("/{subscription_id}", status_code=204)
def unsubscribe(subscription_id: uuid.UUID, actor: WebhookManager, db: DbDep) -> Response:
    """Stop sending; the delivery log is deleted with the subscription."""
    with db.session(write=True) as session:
        delete_subscription(session, _subscription(session, actor, subscription_id), actor)
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries")
def deliveries(
    pager: paging.PagerDep,
    subscription_id: uuid.UUID,
    actor: WebhookManager,
    session: SessionDep,
    cursor: paging.Cursor = None,
    limit: paging.Limit = 100,
) -> DeliveryPage:
    """Every delivery attempt, newest first: status, error, duration, attempt number."""
    found = _subscription(session, actor, subscription_id)
    before = paging.decode(cursor, int)
    rows = list_deliveries(session, found, before=before[0] if before else None, limit=limit + 1)
    rows, next_page = pager.page(rows, limit, lambda d: [d.number])
    return DeliveryPage(deliveries=[DeliveryOut.model_validate(d) for d in rows], next=next_page)


@router.post("/{subscription_id}/deliveries/{number}/redeliver")
def redeliver(
    subscription_id: uuid.UUID, number: DeliveryNumber, actor: WebhookManager, db: DbDep, webhooks: WebhooksDep
) -> DeliveryOut:
    """Send a delivery's message again, now, with the same webhook-id; answers with the
    new attempt. What is still queued keeps its order."""
    with db.reads() as session:
        found = _subscription(session, actor, subscription_id)
        delivery = get_delivery(session, found, number)
    attempt = webhooks.redeliver(found, delivery)
    if attempt is None:
        raise NotFound(f"webhook {subscription_id} was deleted meanwhile", code="webhook_not_found")
    return DeliveryOut.model_validate(attempt)


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as error:
        raise InvalidRequest("cursor is not one this service gave out", code="invalid_cursor") from error
