"""Senders (the control block's partner credentials), companies and their users, and API sessions.

A session belongs to a company, a user and optionally an entity (the login's `locationid`); it expires after the
configured inactivity, measured on the sandbox clock so tests can move time instead of waiting.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.etree.ElementTree import Element

from sandbox.clock import SandboxClock
from sandbox.intacct.constants import (
    DEFAULT_SESSION_TTL_SECONDS,
    ENTITY_IDS,
    ERR_CREDENTIALS,
    MULTI_ENTITY_COMPANY,
    OTHER_SENDER_ID,
    OTHER_SENDER_PASSWORD,
    SENDER_ID,
    SENDER_PASSWORD,
    SINGLE_ENTITY_COMPANY,
    USER_ID,
    USER_PASSWORD,
)
from sandbox.intacct.errors import ErrorDetail, IntacctError


@dataclass(frozen=True)
class CompanySpec:
    company_id: str
    multi_entity: bool
    authorised_senders: frozenset[str]
    users: dict[str, str]

    @property
    def entities(self) -> tuple[str, ...]:
        return ENTITY_IDS if self.multi_entity else ()


SENDERS: dict[str, str] = {SENDER_ID: SENDER_PASSWORD, OTHER_SENDER_ID: OTHER_SENDER_PASSWORD}
COMPANIES: dict[str, CompanySpec] = {
    spec.company_id: spec
    for spec in (
        CompanySpec(SINGLE_ENTITY_COMPANY, False, frozenset({SENDER_ID}), {USER_ID: USER_PASSWORD}),
        CompanySpec(MULTI_ENTITY_COMPANY, True, frozenset({SENDER_ID}), {USER_ID: USER_PASSWORD}),
    )
}


@dataclass
class Session:
    session_id: str
    sender_id: str
    company_id: str
    user_id: str
    entity_id: str
    created_at: datetime
    last_used: datetime


@dataclass(frozen=True)
class Identity:
    """Who a request acts as, once authenticated."""

    company_id: str
    user_id: str
    entity_id: str
    session: Session


class AuthenticationFailed(IntacctError):
    """Printed under `operation/authentication` (status failure); no function runs."""

    def __init__(self, error: ErrorDetail, *, user_id: str = "", company_id: str = "") -> None:
        super().__init__(error)
        self.user_id = user_id
        self.company_id = company_id


def _sign_in_incorrect(correction: str) -> ErrorDetail:
    return ErrorDetail(ERR_CREDENTIALS, "Sign-in information is incorrect", correction=correction)


def _unauthorised(sender_id: str, company_id: str) -> ErrorDetail:
    return ErrorDetail(
        ERR_CREDENTIALS,
        f"The sender ID '{sender_id}' is not authorized to make Web Services requests to company ID '{company_id}'.",
        description="Invalid Web Services Authorization",
        correction="Contact the company administrator to grant Web Services authorization to this sender ID.",
    )


class SessionBook:
    def __init__(self, clock: SandboxClock) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self.ttl = timedelta(seconds=DEFAULT_SESSION_TTL_SECONDS)

    def __len__(self) -> int:
        return len(self._sessions)

    def expires_at(self, session: Session) -> datetime:
        return session.last_used + self.ttl

    def expire_all(self) -> int:
        count = len(self._sessions)
        self._sessions.clear()
        return count

    def authenticate(self, element: Element, sender_id: str) -> Identity:
        """Check `<login>` or `<sessionid>`; a login opens a session (getAPISession then hands it out)."""
        login = element.find("login")
        if login is not None:
            return self._login(login, sender_id)
        session_id = (element.findtext("sessionid") or "").strip()
        session = self._sessions.get(session_id)
        now = self._clock.now()
        if session is None or now >= self.expires_at(session):
            self._sessions.pop(session_id, None)
            raise AuthenticationFailed(_sign_in_incorrect("The session is invalid or has expired. Sign in again."))
        if sender_id not in COMPANIES[session.company_id].authorised_senders:
            raise AuthenticationFailed(
                _unauthorised(sender_id, session.company_id), user_id=session.user_id, company_id=session.company_id
            )
        session.last_used = now
        return Identity(session.company_id, session.user_id, session.entity_id, session)

    def _login(self, login: Element, sender_id: str) -> Identity:
        user_id = (login.findtext("userid") or "").strip()
        company_id = (login.findtext("companyid") or "").strip()
        password = login.findtext("password") or ""
        entity_id = (login.findtext("locationid") or "").strip()
        spec = COMPANIES.get(company_id)
        expected = spec.users.get(user_id) if spec else None
        if spec is None or expected is None or not secrets.compare_digest(expected, password):
            raise AuthenticationFailed(
                _sign_in_incorrect("Check the user ID, company ID and password."),
                user_id=user_id,
                company_id=company_id,
            )
        if sender_id not in spec.authorised_senders:
            raise AuthenticationFailed(_unauthorised(sender_id, company_id), user_id=user_id, company_id=company_id)
        if entity_id and entity_id not in spec.entities:
            raise AuthenticationFailed(
                ErrorDetail(
                    ERR_CREDENTIALS,
                    f"Invalid entity ID '{entity_id}' for company '{company_id}'.",
                    description="Sign-in information is incorrect",
                    correction="Use an entity (location) ID of this multi-entity company, or none.",
                ),
                user_id=user_id,
                company_id=company_id,
            )
        now = self._clock.now()
        for expired in [key for key, old in self._sessions.items() if now >= self.expires_at(old)]:
            del self._sessions[expired]  # logins per request would otherwise pile up
        session = Session(f"{secrets.token_urlsafe(24)}..", sender_id, company_id, user_id, entity_id, now, now)
        self._sessions[session.session_id] = session
        return Identity(company_id, user_id, entity_id, session)
