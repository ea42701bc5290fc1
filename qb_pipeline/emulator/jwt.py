"""RS256 signing for the emulator's OpenID Connect ``id_token`` and its JWKS document.

Real: the compact JWS format, header ``{"kid": ..., "alg": "RS256"}``, and a JWKS at the
discovery ``jwks_uri`` holding the public half under that ``kid``. intuit-oauth fetches the
JWKS and verifies the signature with PyJWT, so the key set must be a standard RFC 7517 one.
Faked: the key is a fresh 2048-bit RSA key per emulator process (Intuit rotates its own keys);
no key rotation is implemented.
"""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(raw: bytes) -> str:
    """Base64url without padding, as JOSE wants it."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class RsaSigner:
    """One RSA key pair: signs RS256 JWTs and publishes the public key as a JWKS."""

    def __init__(self, key_size: int = 2048) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
        self.kid = secrets.token_hex(16)

    def sign(self, claims: dict[str, Any]) -> str:
        """Compact JWS (header.payload.signature) over ``claims``."""
        header = {"kid": self.kid, "alg": "RS256"}
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def jwks(self) -> dict[str, Any]:
        """The JWKS document for ``jwks_uri``."""
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "e": b64url(_int_bytes(numbers.e)),
                    "use": "sig",
                    "kid": self.kid,
                    "alg": "RS256",
                    "n": b64url(_int_bytes(numbers.n)),
                }
            ]
        }
