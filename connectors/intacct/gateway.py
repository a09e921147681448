"""Sending functions to the XML gateway: the envelope, the session, and one renewal when the session expired.

Whole-call failures (control block, authentication, HTTP status, unreadable body) are raised by the connector's
`classify` hook through `Connector.request`; what comes back here is an `Answer` with one result per function,
each of which may still have failed on its own.
"""

import hashlib
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import astuple, dataclass, field, replace
from typing import Any
from xml.etree.ElementTree import Element

import httpx

from connectors.intacct.constants import BATCH_CONTROL_ID_HEX, BATCH_CONTROL_ID_PREFIX, CODE_SESSION_EXPIRED
from connectors.intacct.envelope import Function, Result, Sender, build_request, login, reply_of, session
from connectors.intacct.errors import function_error, malformed
from connectors.intacct.session import ApiSession, SessionKeeper
from core.errors import AuthError, LedgerlineError

Send = Callable[[str, bytes, bool], Awaitable[httpx.Response]]
"""POST a body to a URL (`idempotent` for reads) and return the response, or raise its classified failure."""
Trust = Callable[[str], str]
"""The answered session endpoint, when it may be called (`Connector.answered_url`), or its refusal."""


@dataclass(frozen=True)
class Login:
    """The tenant's user in one company, and optionally one entity of a multi-entity company."""

    user_id: str
    company_id: str
    password: str = field(repr=False)
    entity_id: str = ""


@dataclass(frozen=True)
class Answer:
    """The results of one request, aligned with the functions sent."""

    functions: tuple[Function, ...]
    results: tuple[Result, ...]
    response: httpx.Response

    def error(self, index: int) -> LedgerlineError:
        return function_error(self.functions[index], self.results[index], self.response)


def new_control_id() -> str:
    """A control id for a read (or a function): fresh every time, since reads are safe to repeat."""
    return uuid.uuid4().hex


def batch_control_id(documents: Sequence[tuple[str, int]]) -> str:
    """The control id of a request that writes these (reference, generation) pairs, in any order.

    With `uniqueid=true` the gateway runs a control id once and refuses it afterwards, so this id is what keeps the
    request idempotent: resent with the same members and generations, it is refused if it already ran. A member
    whose earlier send was settled carries a new generation, and with it the request a new id."""
    digest = hashlib.sha256(
        "\n".join(sorted(f"{reference}:{generation}" for reference, generation in documents)).encode()
    )
    return f"{BATCH_CONTROL_ID_PREFIX}{digest.hexdigest()[:BATCH_CONTROL_ID_HEX]}"


class Gateway:
    def __init__(
        self,
        send: Send,
        *,
        url: str,
        trust: Trust,
        sender: Sender,
        user: Login,
        shared: MutableMapping[str, Any] | None = None,
    ) -> None:
        self._send = send
        self._url = url
        self._trust = trust
        self._sender = sender
        self._user = user
        self._shared = shared
        self.sessions = SessionKeeper(self._login, shared=shared, key=self._login_fingerprint())

    @property
    def entity_id(self) -> str:
        return self._user.entity_id

    def in_entity(self, entity_id: str) -> "Gateway":
        """The same user logged in to another entity of the company (the login's `locationid`), with its own API
        session: a document created through it belongs to that entity."""
        return Gateway(
            self._send,
            url=self._url,
            trust=self._trust,
            sender=self._sender,
            user=replace(self._user, entity_id=entity_id),
            shared=self._shared,
        )

    def _login_fingerprint(self) -> str:
        """Who logs in where, as a digest: connectors with equal logins share a session, and no secret is kept."""
        parts = (self._url, self._sender.sender_id, self._sender.password, *astuple(self._user))
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    async def call(self, functions: Sequence[Function], *, control_id: str | None = None) -> Answer:
        """Run the functions in one request under `control_id` (a fresh one if None: for reads); an expired session
        is renewed once and the request sent again (nothing ran: authentication failed before any function)."""
        control_id = control_id or new_control_id()
        current = await self.sessions.current()
        try:
            return await self._call(current, functions, control_id)
        except AuthError as error:
            if error.code != CODE_SESSION_EXPIRED:
                raise
        return await self._call(await self.sessions.renew(stale=current), functions, control_id)

    async def _call(self, api: ApiSession, functions: Sequence[Function], control_id: str) -> Answer:
        body = build_request(
            sender=self._sender,
            control_id=control_id,
            authentication=session(api.session_id),
            functions=functions,
        )
        return self._answer(functions, await self._send(api.endpoint, body, not any(f.is_write for f in functions)))

    def _answer(self, functions: Sequence[Function], response: httpx.Response) -> Answer:
        results = reply_of(response).results  # `classify` already refused an unreadable body
        if [result.control_id for result in results] != [function.control_id for function in functions]:
            raise malformed(
                response,
                wrote=any(function.is_write for function in functions),
                reason=f"{len(results)} results for {len(functions)} functions",
            )
        return Answer(tuple(functions), results, response)

    async def _login(self) -> ApiSession:
        function = Function(new_control_id(), Element("getAPISession"))
        body = build_request(
            sender=self._sender,
            control_id=new_control_id(),
            authentication=login(
                user_id=self._user.user_id,
                company_id=self._user.company_id,
                password=self._user.password,
                entity_id=self._user.entity_id,
            ),
            functions=[function],
        )
        answer = self._answer([function], await self._send(self._url, body, True))
        [result] = answer.results
        if not result.ok:
            raise answer.error(0)
        session_id = (result.element.findtext("data/api/sessionid") or "").strip()
        if not session_id:
            raise malformed(answer.response, wrote=False, reason="getAPISession returned no session id")
        # Every later call carries the sender password and the session to this endpoint: only the spec's hosts.
        endpoint = self._trust((result.element.findtext("data/api/endpoint") or "").strip() or self._url)
        return ApiSession(session_id, endpoint)
