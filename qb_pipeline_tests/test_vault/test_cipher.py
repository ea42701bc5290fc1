"""TokenCipher: AES-256-GCM round trips, fresh nonces, realm binding, tampering, wrong keys."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qb_pipeline.vault import Keyring, TokenCipher, VaultError
from qb_pipeline.vault.cipher import NONCE_BYTES
from qb_pipeline.vault.keys import parse_key_env
from qb_pipeline_tests.test_vault.conftest import new_key_b64

REALM = "9130350000000001"
TOKEN = "AB11-refresh-token-plaintext-Zz9"


def cipher_for(value: str) -> TokenCipher:
    current, keys = parse_key_env(value)
    return TokenCipher(Keyring(keys, current))


@pytest.fixture
def cipher() -> TokenCipher:
    return cipher_for(f"k1:{new_key_b64()}")


def test_round_trip(cipher: TokenCipher) -> None:
    sealed = cipher.encrypt(REALM, TOKEN)
    assert TOKEN.encode() not in sealed
    assert cipher.decrypt(REALM, cipher.current_key_id, sealed) == TOKEN


@given(realm_id=st.text(min_size=1, max_size=20), plaintext=st.text(max_size=2000))
def test_round_trip_any_text(realm_id: str, plaintext: str) -> None:
    cipher = cipher_for("k1:" + base64.b64encode(b"k" * 32).decode())
    assert cipher.decrypt(realm_id, "k1", cipher.encrypt(realm_id, plaintext)) == plaintext


def test_fresh_nonce_every_time(cipher: TokenCipher) -> None:
    sealed = [cipher.encrypt(REALM, TOKEN) for _ in range(50)]
    nonces = {s[1 : 1 + NONCE_BYTES] for s in sealed}
    assert len(nonces) == 50 and len(set(sealed)) == 50


def test_record_moved_to_another_realm_fails_naming_that_realm(cipher: TokenCipher) -> None:
    sealed = cipher.encrypt(REALM, TOKEN)
    with pytest.raises(VaultError) as caught:
        cipher.decrypt("4620816365", "k1", sealed)
    assert str(caught.value) == (
        "cannot decrypt the tokens of realm 4620816365 with key k1: wrong key or tampered record"
    )


@pytest.mark.parametrize("position", [0, 1, NONCE_BYTES + 1, -1])
def test_tampered_record_fails(cipher: TokenCipher, position: int) -> None:
    sealed = bytearray(cipher.encrypt(REALM, TOKEN))
    sealed[position] ^= 0x01
    with pytest.raises(VaultError, match=f"realm {REALM} with key k1: wrong key or tampered"):
        cipher.decrypt(REALM, "k1", bytes(sealed))


def test_truncated_record_fails(cipher: TokenCipher) -> None:
    with pytest.raises(VaultError, match="tampered record"):
        cipher.decrypt(REALM, "k1", cipher.encrypt(REALM, TOKEN)[:20])


def test_wrong_key_with_the_same_id_fails_naming_the_realm(cipher: TokenCipher) -> None:
    sealed = cipher.encrypt(REALM, TOKEN)
    impostor = cipher_for(f"k1:{new_key_b64()}")
    with pytest.raises(VaultError) as caught:
        impostor.decrypt(REALM, "k1", sealed)
    message = str(caught.value)
    assert message == (
        f"cannot decrypt the tokens of realm {REALM} with key k1: wrong key or tampered record"
    )
    assert TOKEN not in message and caught.value.__cause__ is None


def test_unknown_key_id_fails_naming_the_realm(cipher: TokenCipher) -> None:
    with pytest.raises(VaultError, match=f"realm {REALM}: key k9 is not in the keyring"):
        cipher.decrypt(REALM, "k9", cipher.encrypt(REALM, TOKEN))


def test_old_keys_still_decrypt_and_explicit_key_id_is_used() -> None:
    old, new = new_key_b64(), new_key_b64()
    before = cipher_for(f"old:{old}")
    sealed_old = before.encrypt(REALM, TOKEN)
    after = cipher_for(f"new:{new},old:{old}")
    assert after.current_key_id == "new"
    assert after.decrypt(REALM, "old", sealed_old) == TOKEN
    sealed = after.encrypt(REALM, TOKEN, key_id="old")
    assert before.decrypt(REALM, "old", sealed) == TOKEN


def test_reprs_hold_no_key(cipher: TokenCipher) -> None:
    value = f"k1:{new_key_b64()}"
    current, keys = parse_key_env(value)
    keyring = Keyring(keys, current)
    for text in (repr(keyring), repr(TokenCipher(keyring)), str(keyring)):
        assert value.split(":", 1)[1] not in text and "k1" in text
