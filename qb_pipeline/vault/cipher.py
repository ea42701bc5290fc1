"""Sealing tokens: AES-256-GCM with a fresh 12-byte nonce per write and the realm id as AAD.

A sealed record is ``version (1 byte) || nonce (12) || ciphertext+tag``; the key id travels beside
it (``connections.key_id``). Binding the realm id as associated data means a record copied to
another realm's row fails to decrypt instead of handing one company's tokens to another.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qb_pipeline.vault.keys import Keyring, VaultError

FORMAT_VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16


class TokenCipher:
    """Encrypts and decrypts a realm's tokens with the keyring's keys."""

    def __init__(self, keyring: Keyring) -> None:
        self._keyring = keyring

    def __repr__(self) -> str:
        return f"TokenCipher(current_key_id={self.current_key_id!r})"

    @property
    def current_key_id(self) -> str:
        """The key id ``encrypt`` uses by default; store it with the ciphertext."""
        return self._keyring.current_id

    def encrypt(self, realm_id: str, plaintext: str, *, key_id: str | None = None) -> bytes:
        """Seal ``plaintext`` for ``realm_id`` under ``key_id`` (default: the current key)."""
        key = self._keyring.key(key_id or self.current_key_id)
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), realm_id.encode("utf-8"))
        return bytes([FORMAT_VERSION]) + nonce + sealed

    def decrypt(self, realm_id: str, key_id: str, sealed: bytes) -> str:
        """The plaintext of a record sealed for ``realm_id``; VaultError naming the realm if not."""
        failure = (
            f"cannot decrypt the tokens of realm {realm_id} with key {key_id}: "
            "wrong key or tampered record"
        )
        if key_id not in self._keyring:
            try:
                self._keyring.key(key_id)  # a file-backed keyring may learn it from its file
            except VaultError:
                raise VaultError(
                    f"cannot decrypt the tokens of realm {realm_id}: key {key_id} is not in the "
                    f"keyring ({self._keyring.key_ids})"
                ) from None
        if len(sealed) < 1 + NONCE_BYTES + TAG_BYTES or sealed[0] != FORMAT_VERSION:
            raise VaultError(failure)
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            plaintext = AESGCM(self._keyring.key(key_id)).decrypt(
                nonce, body, realm_id.encode("utf-8")
            )
        except InvalidTag:
            raise VaultError(failure) from None
        return plaintext.decode("utf-8")
