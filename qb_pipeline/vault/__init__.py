"""The token vault: AES-256-GCM sealing of each realm's tokens under rotatable master keys.

    keyring = Keyring.load()                 # QB_VAULT_KEY, else a 0600 key file under QB_HOME
    cipher = TokenCipher(keyring)
    sealed = cipher.encrypt(realm_id, refresh_token)
    token = cipher.decrypt(realm_id, cipher.current_key_id, sealed)
    rotate_key(store, keyring)               # `qb-pipeline vault rotate-key`

Plain Python: no Dagster here.
"""

from __future__ import annotations

from qb_pipeline.vault.cipher import TokenCipher
from qb_pipeline.vault.keys import Keyring, VaultError
from qb_pipeline.vault.rotation import rotate_key

__all__ = ["Keyring", "TokenCipher", "VaultError", "rotate_key"]
