"""API keys of the systems that call Proactief's API (the LEZ permit system).

A key is a long random token shown once when it is made; the store keeps its
SHA-256 hash and its first characters, so that a listing can tell keys apart. A
revoked key is refused from the next call on.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from sqlmodel import Session, select

from proactief.errors import AccountError
from proactief.store import ApiClient, Store

KEY_PREFIX = "pk_"
NAME = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, name: str) -> str:
        """Make a key for client system `name`; returns the key (shown once)."""
        name = name.strip().lower()
        if not NAME.match(name):
            raise AccountError(
                "a client name is 2 to 40 lower-case letters, digits, dots, dashes"
                " or underscores, starting with a letter"
            )
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with Session(self.store.engine) as session:
            session.add(ApiClient(name=name, prefix=key[:10], key_hash=_digest(key)))
            session.commit()
        return key

    def all(self) -> list[ApiClient]:
        with Session(self.store.engine) as session:
            return list(
                session.exec(select(ApiClient).order_by(ApiClient.name, ApiClient.id))
            )

    def revoke(self, name_or_prefix: str) -> int:
        """Revoke every live key of a client (by name) or the key with that
        prefix; returns how many were revoked."""
        wanted = name_or_prefix.strip()
        with Session(self.store.engine) as session:
            keys = session.exec(
                select(ApiClient).where(ApiClient.revoked_at.is_(None))
            ).all()
            hits = [k for k in keys if wanted in (k.name, k.prefix)]
            for key in hits:
                key.revoked_at = datetime.now(UTC)
                session.add(key)
            session.commit()
            return len(hits)

    def client_of(self, key: str | None) -> str | None:
        """The client name of a live key, or None."""
        if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
            return None
        with Session(self.store.engine) as session:
            found = session.exec(
                select(ApiClient).where(ApiClient.key_hash == _digest(key))
            ).first()
        if found is None or found.revoked_at is not None:
            return None
        return found.name
