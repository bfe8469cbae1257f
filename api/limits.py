"""Request bodies have a ceiling: a hostile or broken client gets a clear 413, not a
server busy parsing gigabytes. Public pages and the reads behind them have a budget per
process and a high limit per client address: a flood gets 429, the proofs are not
recomputed for it, and a crowd behind one carrier's address is not refused for it."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problem_types import type_uri


class BodyLimit:
    """Pure ASGI middleware: refuse bodies over `limit` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        received = 0
        started = refused = False

        async def counted() -> Message:
            # Over the limit: answer 413 at once and tell the app the client has gone (an
            # exception here would be caught by the app's body parsing and answered 400).
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched_send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "type": type_uri("body_too_large"),
                "title": "Request body too large",
                "status": 413,
                "detail": f"a request body may have at most {self.limit:,} bytes; "
                "send an offline batch in several requests",
                "code": "body_too_large",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})



class PerClientRate:
    """A token bucket per client address: `per_minute` requests a minute, in bursts of
    up to `burst` (a minute's worth unless said). Kept in the process's memory (each
    worker has its own); the least recently seen addresses are forgotten beyond
    `max_clients`."""

    def __init__(self, per_minute: int, max_clients: int = 10_000, burst: int | None = None) -> None:
        self.capacity = float(burst or per_minute)
        self.rate = per_minute / 60.0
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 if the client may go on (and one request is counted), else the seconds until it may."""
        return self._use(client, 1)

    def wait(self, client: str) -> float:
        """As take(), counting nothing: for limits on failures, known only afterwards."""
        return self._use(client, 0)

    def _use(self, client: str, cost: int) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.pop(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
            self._buckets[client] = (tokens - cost if wait == 0 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


class PublicReads:
    """The limits on public reads (check pages, box and truckload histories): a budget
    for the whole process, `per_second` answers built in full whoever asks, and a high
    limit per client address. Indonesian carriers put many subscribers behind one
    address (carrier-grade NAT): a per-address limit of a few a second would refuse a
    whole town at once, so that one only stops a single client hammering, and the
    process budget keeps a crowd from starving the scans. An answer the client already
    holds (304) counts against neither."""

    def __init__(self, per_second: int, per_address_per_minute: int) -> None:
        self._budget = PerClientRate(per_second * 60, max_clients=1, burst=per_second)
        self._addresses = PerClientRate(per_address_per_minute)

    def wait(self, client: str) -> float:
        """0 if the client may be answered now, else the seconds until it may; counts nothing."""
        return max(self._budget.wait(""), self._addresses.wait(client))

    def spend(self, client: str) -> None:
        """Count one answer built in full."""
        self._budget.take("")
        self._addresses.take(client)
