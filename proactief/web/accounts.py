"""Accounts, passwords and sessions of the web app.

Passwords are kept as Argon2id hashes, with OWASP's recommended minimum cost
(19 MiB of memory, two passes, one lane): about 50 ms a sign-in on two cores,
where the library's default profile (64 MiB, four lanes) takes 0.4 s. Five wrong
passwords in a row lock an account for a while; a locked account refuses even the
right password until the lock ends or an admin lifts it. A session is a random
token in a cookie of which the store keeps only a SHA-256 hash; it ends after a
period without activity and, in any case, after a maximum length.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from proactief.errors import AccountError
from proactief.store import Account, Store, WebSession


class Role(StrEnum):
    DESK = "desk"
    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.DESK: "baliemedewerker",
    Role.REVIEWER: "beoordelaar",
    Role.SUPERVISOR: "supervisor",
    Role.ADMIN: "beheerder",
}

MIN_PASSWORD_LENGTH = 12
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")

_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Verified against when the user does not exist, so that a wrong user name takes
# as long as a wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every moment stored here is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lock_minutes: float = 15.0


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: float = 30.0
    max_hours: float = 10.0


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The user behind a request."""

    username: str
    display_name: str
    role: Role
    csrf_token: str
    session_id: int


class LoginResult(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    JUST_LOCKED = "just_locked"
    DISABLED = "disabled"


MAX_PASSWORD_LENGTH = 1000  # what the sign-in form takes


def check_new_password(password: str) -> None:
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"a password has at most {MAX_PASSWORD_LENGTH} characters")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if password.strip() != password:
        raise AccountError("a password may not start or end with a space")


class Accounts:
    """Account and session operations on the store's database."""

    def __init__(
        self,
        store: Store,
        login: LoginPolicy | None = None,
        sessions: SessionPolicy | None = None,
    ) -> None:
        self.store = store
        self.login_policy = login or LoginPolicy()
        self.session_policy = sessions or SessionPolicy()

    # accounts
    def create(
        self, username: str, role: str, password: str, display_name: str = ""
    ) -> Account:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise AccountError(
                "a user name is 2 to 40 lower-case letters, digits, dots, dashes or"
                " underscores, starting with a letter"
            )
        try:
            role = Role(role)
        except ValueError:
            raise AccountError(
                f"unknown role {role!r}; choose one of {', '.join(r.value for r in Role)}"
            ) from None
        check_new_password(password)
        with Session(self.store.engine) as session:
            if session.exec(
                select(Account).where(Account.username == username)
            ).first():
                raise AccountError(f"an account {username!r} exists already")
            account = Account(
                username=username,
                display_name=display_name.strip() or username,
                role=role.value,
                password_hash=_hasher.hash(password),
            )
            session.add(account)
            session.commit()
            session.refresh(account)
            return account

    def get(self, username: str) -> Account | None:
        with Session(self.store.engine) as session:
            return session.exec(
                select(Account).where(Account.username == username.strip().lower())
            ).first()

    def all(self) -> list[Account]:
        with Session(self.store.engine) as session:
            return list(session.exec(select(Account).order_by(Account.username)).all())

    def _change(self, username: str, **values) -> Account:
        with Session(self.store.engine) as session:
            account = session.exec(
                select(Account).where(Account.username == username.strip().lower())
            ).first()
            if account is None:
                raise AccountError(f"no account {username!r}")
            for name, value in values.items():
                setattr(account, name, value)
            session.add(account)
            session.commit()
            session.refresh(account)
            return account

    def set_password(self, username: str, password: str) -> None:
        check_new_password(password)
        self._change(username, password_hash=_hasher.hash(password))
        self.end_sessions(username)

    def unlock(self, username: str) -> None:
        self._change(username, failed_logins=0, locked_until=None)

    def set_active(self, username: str, active: bool) -> None:
        self._change(username, active=active)
        if not active:
            self.end_sessions(username)

    # signing in
    def authenticate(
        self, username: str, password: str
    ) -> tuple[LoginResult, Account | None]:
        """Check a password, counting failures and locking after too many."""
        now = _now()
        account = (
            self.get(username) if USERNAME.match(username.strip().lower()) else None
        )
        if account is None:
            try:
                _hasher.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
            return LoginResult.WRONG, None
        locked_until = _aware(account.locked_until)
        if locked_until is not None and locked_until > now:
            return LoginResult.LOCKED, account
        try:
            _hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            failures = account.failed_logins + 1
            if failures >= self.login_policy.max_failures:
                until = now + timedelta(minutes=self.login_policy.lock_minutes)
                account = self._change(
                    account.username, failed_logins=0, locked_until=until
                )
                return LoginResult.JUST_LOCKED, account
            account = self._change(
                account.username, failed_logins=failures, locked_until=None
            )
            return LoginResult.WRONG, account
        if not account.active:
            return LoginResult.DISABLED, account
        values = {"failed_logins": 0, "locked_until": None}
        if _hasher.check_needs_rehash(account.password_hash):
            values["password_hash"] = _hasher.hash(password)
        account = self._change(account.username, **values)
        return LoginResult.OK, account

    # sessions
    def start_session(self, account: Account) -> str:
        """A new session for a signed-in account; returns the cookie's token."""
        token = secrets.token_urlsafe(32)
        now = _now()
        with Session(self.store.engine) as session:
            session.add(
                WebSession(
                    token_hash=_digest(token),
                    username=account.username,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + timedelta(hours=self.session_policy.max_hours),
                )
            )
            session.commit()
        return token

    def resume(self, token: str | None) -> SignedIn | None:
        """The user of a session cookie, or None when it is unknown or expired."""
        if not token:
            return None
        now = _now()
        idle = timedelta(minutes=self.session_policy.idle_minutes)
        with Session(self.store.engine) as session:
            web = session.exec(
                select(WebSession).where(WebSession.token_hash == _digest(token))
            ).first()
            if web is None:
                return None
            if _aware(web.expires_at) <= now or _aware(web.last_seen_at) + idle <= now:
                session.delete(web)
                session.commit()
                return None
            account = session.exec(
                select(Account).where(Account.username == web.username)
            ).first()
            if account is None or not account.active:
                session.delete(web)
                session.commit()
                return None
            # Touch the session at most once a minute: one write per click is
            # a cost the desk's busy hours need not pay.
            if now - _aware(web.last_seen_at) > timedelta(seconds=60):
                web.last_seen_at = now
                session.add(web)
                session.commit()
                session.refresh(web)
            return SignedIn(
                username=account.username,
                display_name=account.display_name,
                role=Role(account.role),
                csrf_token=web.csrf_token,
                session_id=web.id,
            )

    def end_session(self, token: str | None) -> None:
        if not token:
            return
        with Session(self.store.engine) as session:
            web = session.exec(
                select(WebSession).where(WebSession.token_hash == _digest(token))
            ).first()
            if web is not None:
                session.delete(web)
                session.commit()

    def end_sessions(self, username: str) -> None:
        with Session(self.store.engine) as session:
            for web in session.exec(
                select(WebSession).where(WebSession.username == username)
            ).all():
                session.delete(web)
            session.commit()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
