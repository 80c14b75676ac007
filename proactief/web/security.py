"""Who may open which page, and the CSRF check on every form.

Every route but the login page depends on `require(...)`, which finds the signed-in
user from the session cookie and checks the role. A form post carries the
session's CSRF token in a hidden field; `check_csrf` compares it in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Request

from proactief.web.accounts import Role, SignedIn

SESSION_COOKIE = "proactief_sessie"
LOGIN_COOKIE = "proactief_aanmelding"

DESK = frozenset({Role.DESK, Role.ADMIN})
REVIEW = frozenset({Role.REVIEWER, Role.SUPERVISOR, Role.ADMIN})
SUPERVISE = frozenset({Role.SUPERVISOR, Role.ADMIN})
ANYONE = frozenset(Role)


class NotSignedIn(Exception):
    """The request has no valid session."""


class WrongRole(Exception):
    """The signed-in user's role may not open this page."""

    def __init__(self, user: SignedIn) -> None:
        super().__init__(user.username)
        self.user = user


class BadCsrfToken(Exception):
    """A form post without the session's CSRF token."""


def current_user(request: Request) -> SignedIn | None:
    accounts = request.app.state.accounts
    return accounts.resume(request.cookies.get(SESSION_COOKIE))


def require(roles: frozenset[Role]) -> Callable[[Request], SignedIn]:
    """A dependency giving the signed-in user, if their role is one of `roles`."""

    def dependency(request: Request) -> SignedIn:
        user = current_user(request)
        if user is None:
            raise NotSignedIn()
        if user.role not in roles:
            raise WrongRole(user)
        request.state.user = user
        return user

    return dependency


def check_csrf(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise BadCsrfToken()


def may(user: SignedIn | None, roles: frozenset[Role]) -> bool:
    return user is not None and user.role in roles
