"""The Jejak log: RFC 9162 Merkle trees and the C2SP transparency-log formats.

This package is the verifiable core that every log, witness and offline verifier
shares: JCS entry encoding, tree hashing and proofs, tlog-tiles, signed notes,
checkpoints, cosignatures and tlog-proof receipts. It must stay pure: it imports
only the standard library, `cryptography` (Ed25519), `rfc8785` (the reference
canonicalization) and `orjson` (RFC 8785's fast path, and reading entries back), and
never a database, a web framework or the rest of Jejak, so that anyone can audit it
and run it without the service.
"""
