"""Compact JWS with EdDSA (RFC 7515, RFC 8037) and JWK thumbprints (RFC 7638).

Labels carry such a signature in their QR code, so that a phone holding the
jurisdiction's public key can reject a counterfeit label without a network."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.jcs import canonicalize


class JwsError(ValueError):
    pass


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Strict: only the canonical spelling, so that one signature has one form."""
    if not text or any(c not in _B64URL for c in text) or len(text) % 4 == 1:
        raise JwsError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise JwsError("not canonical base64url (stray bits at the end)")
    return data


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(key.public_bytes_raw())}


def thumbprint(key: Ed25519PublicKey) -> str:
    """RFC 7638: the SHA-256 of the JWK's required members, as a key id."""
    return b64url(hashlib.sha256(canonicalize(public_jwk(key))).digest())


def sign(payload: dict[str, Any], key: Ed25519PrivateKey, header: dict[str, Any]) -> str:
    protected = {**header, "alg": "EdDSA", "kid": thumbprint(key.public_key())}
    signing_input = f"{b64url(canonicalize(protected))}.{b64url(canonicalize(payload))}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode()))}"


def verify(
    token: str, keys: dict[str, Ed25519PublicKey], typ: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS signed by one of `keys` (by kid) and, if
    given, of type `typ`; else JwsError."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("a compact JWS has three parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as error:
        raise JwsError("the JWS header or payload is not JSON") from error
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise JwsError("the JWS header and payload must be JSON objects")
    if header.get("alg") != "EdDSA":
        raise JwsError(f"alg {header.get('alg')!r} is not EdDSA")
    if "crit" in header:
        raise JwsError("critical header extensions are not supported")
    if typ is not None and header.get("typ") != typ:
        raise JwsError(f"typ {header.get('typ')!r} is not {typ!r}")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise JwsError(f"signed by an unknown key {header.get('kid')!r}")
    try:
        key.verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode())
    except InvalidSignature as error:
        raise JwsError("the signature does not verify") from error
    return header, payload
