"""Compact EdDSA JWS as labels use it: strict decoding, type and key checks."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import jws


def _signed() -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    return jws.sign({"item": "53.03.08.2001-003-BUP", "n": 1}, key, {"typ": "jejak-label+jws"}), key


def test_sign_then_verify() -> None:
    token, key = _signed()
    header, payload = jws.verify(token, {jws.thumbprint(key.public_key()): key.public_key()}, typ="jejak-label+jws")
    assert header["alg"] == "EdDSA" and payload["n"] == 1


def test_one_signature_has_one_spelling() -> None:
    token, key = _signed()
    keys = {jws.thumbprint(key.public_key()): key.public_key()}
    head, body, sig = token.split(".")
    # The last character of an Ed25519 signature carries 4 spare bits: flipping one
    # gives the same bytes under a lenient decoder.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]
    with pytest.raises(jws.JwsError, match="not canonical"):
        jws.verify(f"{head}.{body}.{twin}", keys)


def test_wrong_type_unknown_key_and_crit_are_refused() -> None:
    token, key = _signed()
    keys = {jws.thumbprint(key.public_key()): key.public_key()}
    with pytest.raises(jws.JwsError, match="typ"):
        jws.verify(token, keys, typ="something-else")
    with pytest.raises(jws.JwsError, match="unknown key"):
        jws.verify(token, {})
    other = Ed25519PrivateKey.generate()
    crit = jws.sign({"x": 1}, other, {"crit": ["exp"], "exp": 1})
    with pytest.raises(jws.JwsError, match="critical"):
        jws.verify(crit, {jws.thumbprint(other.public_key()): other.public_key()})


def test_thumbprint_follows_rfc_7638() -> None:
    # RFC 8037 Appendix A.3: the thumbprint of the example Ed25519 key.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    x = jws.b64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    key = Ed25519PublicKey.from_public_bytes(x)
    assert jws.thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
