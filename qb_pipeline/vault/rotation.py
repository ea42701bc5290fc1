"""Key rotation: re-encrypt every connection's tokens under a new current key.

With a key file, ``rotate_key`` first adds a fresh key to the file and makes it current; with
``QB_VAULT_KEY`` the operator has already put the new key first, and rotation re-encrypts the rows
still under older keys. Each connection is re-encrypted in its own locked transaction (so a token
refresh running meanwhile is never lost) and gets a ``key_rotated`` event. A failure midway leaves
every row readable: the rows not yet done keep their old key id, and old keys stay in the keyring.
Running it again finishes the job.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from qb_pipeline.store import Store
from qb_pipeline.vault.cipher import TokenCipher
from qb_pipeline.vault.keys import Keyring

log = logging.getLogger(__name__)

ROTATION_ACTOR = "vault-rotate-key"


def rotate_key(store: Store, keyring: Keyring, *, actor: str = ROTATION_ACTOR) -> int:
    """New current key (key-file mode), then re-encrypt every connection; rows re-encrypted."""
    new_key_id = keyring.rotate() if keyring.path is not None else keyring.current_id
    cipher = TokenCipher(keyring)
    count = 0
    for record in store.connections.list():
        if record.key_id != new_key_id and _reencrypt(
            store, cipher, record.realm_id, new_key_id, actor
        ):
            count += 1
    log.info("vault: %d connection(s) re-encrypted under key %s", count, new_key_id)
    return count


def _reencrypt(store: Store, cipher: TokenCipher, realm_id: str, key_id: str, actor: str) -> bool:
    """Re-seal one realm's two tokens under ``key_id`` while holding its row; False if skipped."""
    try:
        with store.connections.locked(realm_id) as locked:
            record = locked.record
            if record.key_id == key_id:
                return False  # someone (a refresh) already sealed it under the new key
            access = cipher.decrypt(realm_id, record.key_id, record.access_token_ct)
            refresh = cipher.decrypt(realm_id, record.key_id, record.refresh_token_ct)
            locked.save(
                replace(
                    record,
                    key_id=key_id,
                    access_token_ct=cipher.encrypt(realm_id, access, key_id=key_id),
                    refresh_token_ct=cipher.encrypt(realm_id, refresh, key_id=key_id),
                )
            )
            locked.event(
                realm_id,
                "key_rotated",
                actor=actor,
                detail={"from_key_id": record.key_id, "to_key_id": key_id},
            )
    except KeyError:
        if store.connections.get(realm_id) is None:
            return False  # the connection was removed since the listing
        raise
    return True
