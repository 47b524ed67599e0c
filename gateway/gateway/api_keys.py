"""API keys of system clients: ops configure their SHA-256 hashes, never the keys themselves.

`python -m gateway.api_keys new crm-sync` prints a fresh key (give it to the client) and the
entry to add to `GATEWAY_API_KEYS`. Keys are 256 random bits, so a plain SHA-256 is as strong
as a slow password hash here, and costs nothing per request.
"""

import hashlib
import json
import secrets
import sys

from pydantic import BaseModel, Field

KEY_PREFIX = "agora_"


class ApiKeyHash(BaseModel):
    client_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """Finds the client a presented key belongs to."""

    def __init__(self, hashes: list[ApiKeyHash]) -> None:
        self._clients = {entry.sha256: entry.client_id for entry in hashes}

    def client(self, key: str) -> str | None:
        # A lookup by digest: timing reveals at most the digest, which does not reveal the key.
        return self._clients.get(digest(key))


def new_key(client_id: str) -> tuple[str, ApiKeyHash]:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return key, ApiKeyHash(client_id=client_id, sha256=digest(key))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "new":
        sys.exit("usage: python -m gateway.api_keys new CLIENT_ID")
    key, entry = new_key(sys.argv[2])
    print(f"key (give it to the client, it is shown once): {key}")
    print(f"entry for GATEWAY_API_KEYS: {json.dumps(entry.model_dump())}")
