"""Where webhooks may go: public addresses only, so that a subscription cannot make the
server reach inside its own network (loopback, private networks, the cloud metadata
service at 169.254.169.254…) and learn from its delivery log which ports answer there.

A URL is checked when it is subscribed and again at every delivery attempt, on every
address its host name resolves to at that moment (a name may point elsewhere by then:
DNS rebinding). The attempt connects to the address that was checked, never resolving
again, while the Host header and the TLS server name (SNI, and the certificate check)
stay the URL's name. JEJAK_WEBHOOK_ALLOWED_NETWORKS opens networks that are not public:
a receiver inside the same network, or tests on loopback."""

from __future__ import annotations

import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import TYPE_CHECKING, Any

import httpx

from models.core.errors import InvalidRequest

if TYPE_CHECKING:
    from models.core.settings import Settings

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Checked in this order, so that an address gets its most telling name (the loopback
# and link-local ranges are private too).
_KINDS = (
    ("loopback", "is_loopback"),
    ("unspecified", "is_unspecified"),
    ("link-local", "is_link_local"),
    ("multicast", "is_multicast"),
    ("reserved", "is_reserved"),
    ("private", "is_private"),
)
SHARED = ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598): not private, not public
NAT64 = ip_network("64:ff9b::/96")  # IPv4 addresses reached through a NAT64 gateway (RFC 6052)
# ASCII controls, DEL, and any whitespace: urlsplit silently drops tabs and newlines,
# so a URL that looks checked would not be the URL that is sent.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\s]")


def embedded_ipv4(address: Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, NAT64, 6to4), if any: a
    connection to it may end at that IPv4 address."""
    if isinstance(address, IPv4Address):
        return None
    if address in NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.ipv4_mapped or address.sixtofour


def address_kind(address: Address) -> str | None:
    """What kind of non-public address this is (None: a public one)."""
    address = embedded_ipv4(address) or address
    for kind, test in _KINDS:
        if getattr(address, test):
            return kind
    if address in SHARED:
        return "shared (carrier-grade NAT)"
    return None if address.is_global else "non-public"


def resolve(host: str, port: int) -> list[Address]:
    """Every address a host name (or address literal) stands for now; raises OSError
    when it cannot be resolved."""
    try:
        return [ip_address(host)]  # written out (with an IPv6 zone, which DNS knows nothing of)
    except ValueError:
        pass
    # As bytes: Python's own IDNA codec would refuse some names DNS takes (and raise
    # UnicodeError, not OSError); the name is already in its IDNA form.
    found = socket.getaddrinfo(host.encode("ascii"), port, type=socket.SOCK_STREAM)
    # sockaddr[0] of an IPv6 link-local address may carry a zone (`fe80::1%eth0`).
    return list(dict.fromkeys(ip_address(str(sockaddr[0]).split("%")[0]) for *_, sockaddr in found))


@dataclass(frozen=True)
class Target:
    """One attempt's request: to the checked address, in the name of the URL's host."""

    url: httpx.URL
    headers: dict[str, str]
    extensions: dict[str, Any]


@dataclass(frozen=True)
class Destinations:
    """The rule of where webhooks may go: public addresses, and `allowed` networks;
    https only when `https_only` (production)."""

    allowed: Sequence[Network] = field(default=())
    https_only: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Destinations:
        return cls(settings.webhook_allowed_networks, settings.is_production)

    def check_url(self, url: str) -> httpx.URL:
        """The URL, if its form may be a webhook's; raises InvalidRequest."""
        if _UNSAFE.search(url):
            raise InvalidRequest("a webhook URL has no spaces or control characters (tab, newline…)")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise InvalidRequest(f"{url!r} is not a URL: {error}") from error
        if parsed.port is not None and not 0 < parsed.port < 65536:
            raise InvalidRequest(f"{url!r} is not a URL: its port is out of range")
        schemes = ("https",) if self.https_only else ("http", "https")
        if parsed.scheme not in schemes or not parsed.host:
            raise InvalidRequest(
                "a webhook URL is https:// with a host name"
                if self.https_only
                else "a webhook URL is http:// or https:// with a host name"
            )
        if parsed.userinfo:
            raise InvalidRequest("a webhook URL carries no credentials: verify the signature instead")
        return parsed

    def check_address(self, address: Address, name: str) -> None:
        """Raises InvalidRequest unless webhooks may go to this address (`name`
        resolved to it)."""
        stands_for = [a for a in (address, embedded_ipv4(address)) if a is not None]
        if any(a in network for a in stands_for for network in self.allowed):
            return
        kind = address_kind(address)
        if kind is not None:
            where = f"{name} is " if _is_literal(name, address) else f"{name} resolves to {address}, "
            raise InvalidRequest(
                f"{where}{'an' if kind[0] in 'aeiou' else 'a'} {kind} address: webhooks go to public "
                "addresses only (JEJAK_WEBHOOK_ALLOWED_NETWORKS opens others)"
            )

    def check_subscription(self, url: str) -> None:
        """At subscribe: the URL's form, and every address its host resolves to now. A
        name that does not resolve yet is let through: every delivery checks again."""
        parsed = self.check_url(url)
        try:
            addresses = resolve(_host(parsed), _port(parsed))
        except OSError:
            return
        for address in addresses:
            self.check_address(address, _host(parsed))

    def target(self, url: str) -> Target:
        """At delivery: resolve the host, check every address, and aim at the first;
        raises InvalidRequest (the attempt's error) if it may not be sent."""
        parsed = self.check_url(url)
        name = _host(parsed)
        try:
            addresses = resolve(name, _port(parsed))
        except OSError as error:
            raise InvalidRequest(f"{name} does not resolve: {error}") from error
        for address in addresses:
            self.check_address(address, name)
        extensions = {"sni_hostname": name} if parsed.scheme == "https" else {}
        return Target(
            parsed.copy_with(host=str(addresses[0])),
            {"host": parsed.netloc.decode("ascii")},
            extensions,
        )


def _host(url: httpx.URL) -> str:
    """The host as DNS and TLS know it: an international name in its IDNA form."""
    return url.raw_host.decode("ascii")


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _is_literal(name: str, address: Address) -> bool:
    """Whether the URL's host is this address itself, written out."""
    try:
        return ip_address(name) == address
    except ValueError:
        return False
