"""The declarative half of a connector: `connectors/<system>/spec.yaml`, validated by these models.

Everything about *how to talk to* a system lives here as data: auth mode and URLs, pagination style, rate limits
and the headers that report them, batch sizes, credential fields. The vocabularies are closed (`PaginationStyle`,
`RetryHint`): add a variant here before adding a one-off flag to a connector.
"""

from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.constants import SECURE_SCHEME
from core.destination_vocabulary import AttributeRole
from core.domain import DocumentKind, Fund


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthMode(StrEnum):
    OAUTH2 = "oauth2"
    CREDENTIALS = "credentials"


class ConnectorRole(StrEnum):
    SOURCE = "source"
    DESTINATION = "destination"


class PaginationStyle(StrEnum):
    OFFSET = "offset"
    PAGE = "page"
    CURSOR = "cursor"
    LINK = "link"
    RESULT_ID = "result_id"
    """Intacct's readByQuery → readMore(resultId)."""


class RetryHint(StrEnum):
    AFTER = "after"
    """A header with seconds to wait (Retry-After)."""
    AT = "at"
    """A header with the moment to retry."""
    REMAINING = "remaining"
    """A header with the calls left in the window; zero means wait for the window."""


class OAuth2Spec(_Spec):
    """How the system's OAuth2 server behaves; its URLs are the spec's `authorize` and `token` URLs."""

    scopes: tuple[str, ...] = ()
    pkce: bool = True
    client_auth: Literal["client_secret_post", "client_secret_basic"] = "client_secret_post"
    request_encoding: Literal["form", "json"] = "form"
    """Of the token request. RFC 6749 says form; some systems (Fyle) document a JSON body."""
    rotates_refresh_token: bool = False
    """Every refresh returns a new refresh token that must replace the old one."""


class CredentialField(_Spec):
    name: str
    label: str
    help: str
    secret: bool = False
    required: bool = True
    pattern: str | None = None
    identifies_books: bool = False
    """The field names which books the connection writes to (a company, an entity): changing it re-points the
    connection, which is refused while any of its exports is unsettled (`sync.repointing`)."""


class SettingWriter(StrEnum):
    PERSON = "person"
    """A tenant admin sets it, when creating the connection or later."""
    SYSTEM = "system"
    """Ledgerline writes it (what a connect flow learned); a person may neither give nor change it."""


class WebhookAddress(StrEnum):
    """Where a system posts its webhooks, which decides how a delivery finds its connection."""

    CONNECTION = "connection"
    """One URL and signing secret per connection (`/webhooks/{system}/{connection key}`)."""
    APP = "app"
    """One URL and secret for Ledgerline's whole app with the system (`/webhooks/{system}`); each delivery names the
    accounts it is about, found in the connection setting `webhook_account_setting`."""


class WebhookAnswer(StrEnum):
    """How the app-level address answers a delivery it took (stored, or a redelivery, or for no connection)."""

    DETAILED = "detailed"
    """202 when something was stored, else 200, with a JSON body counting what was stored."""
    EMPTY = "empty"
    """200 with an empty body, whatever was stored: for systems whose senders count any other answer as a failure
    (and retry it, then disable the subscription)."""


class SettingField(_Spec):
    """A connection setting this connector reads, besides the shared ones every connection of its role takes
    (`sync.connection_settings`). A text value; `pattern` is what a person may give."""

    name: str
    help: str
    written_by: SettingWriter = SettingWriter.PERSON
    pattern: str | None = None


def _given(values: Mapping[str, Any], name: str) -> str:
    return str(values.get(name) or "").strip()


class AuthSpec(_Spec):
    mode: AuthMode
    oauth2: OAuth2Spec | None = None
    app_fields: tuple[CredentialField, ...] = ()
    """Ledgerline's own credentials with the system (OAuth client, Intacct sender), from settings."""
    tenant_fields: tuple[CredentialField, ...] = ()
    """What each tenant supplies (user, company, password…), encrypted per connection."""

    def books_changed(self, before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[CredentialField, ...]:
        """The tenant fields naming the books that `after` changes from `before` (an empty value and an absent one
        are the same); every such field when `before` is unknown (unreadable), since then any may change."""
        books = tuple(field for field in self.tenant_fields if field.identifies_books)
        if before is None:
            return books
        return tuple(field for field in books if _given(before, field.name) != _given(after, field.name))

    @model_validator(mode="after")
    def _oauth2_needs_endpoints(self) -> "AuthSpec":
        if self.mode is AuthMode.OAUTH2 and self.oauth2 is None:
            raise ValueError("auth.mode oauth2 needs an `oauth2` block")
        return self


class DocumentSpec(_Spec):
    """A kind of document the system creates, where it keeps Ledgerline's reference (what a lookup finds it by), and
    which expenses may be exported as it."""

    kind: DocumentKind
    object: str
    """The system's own name for it (Intacct's APBILL, QuickBooks' Bill)."""
    label: str | None = None
    """What people using the system call it, shown in the dashboard (Intacct's "AP bill"); None: the kind's words."""
    reference_field: str
    url_field: str | None = None
    takes_attachments: bool = False
    funds: tuple[Fund, ...] = ()
    """The expenses an export setting may send as this kind, the first listed kind of a fund being its default;
    none for documents made from other documents (payments)."""
    category_type: str | None = None
    """The attribute type its lines book categories to (Intacct: expense types on expense reports, else accounts);
    required of a kind expenses are exported as."""
    card_account_type: str | None = None
    """The attribute type a corporate card's own mapping points to on it; None when a card's mapping has no use."""
    counterparty_types: tuple[str, ...] = ()
    """The attribute types it may name an employee as (`employee_as`); empty: any counterparty type."""

    def named_types(self) -> list[tuple[str, AttributeRole]]:
        """(type, the role it plays here) of every attribute type this declaration names."""
        named = [(name, AttributeRole.COUNTERPARTY) for name in self.counterparty_types]
        if self.category_type is not None:
            named.append((self.category_type, AttributeRole.CATEGORY))
        if self.card_account_type is not None:
            named.append((self.card_account_type, AttributeRole.CARD_ACCOUNT))
        return named


class AttributeTypeSpec(_Spec):
    """A destination attribute type (a dimension it imports) and what it may be used as."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    label: str
    roles: tuple[AttributeRole, ...] = Field(min_length=1)


class UserDimensionSpec(_Spec):
    """Dimensions each company defines itself; Ledgerline names them `<prefix><NAME>`."""

    prefix: str = Field(pattern=r"^[a-z][a-z0-9_]*:$")
    label: str


_SINGULAR_ROLES = (AttributeRole.TAX, AttributeRole.ENTITY)
"""Roles a document fills from one type only, so at most one type of a destination plays each."""


class IdempotencyScope(StrEnum):
    REQUEST = "request"
    """One key per request of many documents (Intacct's control id)."""
    DOCUMENT = "document"
    """One key per document (a header or query parameter per call)."""
    NONE = "none"
    """No native tool: only the lookup by reference protects a resend."""


class IdempotencySpec(_Spec):
    scope: IdempotencyScope
    carrier: str
    """Where the key travels: an element, a header or a query parameter of the system's."""
    max_length: int | None = Field(default=None, ge=1)
    """The system's limit on the key's length, where it publishes one."""


class PaginationSpec(_Spec):
    style: PaginationStyle
    page_size: int = Field(ge=1)
    max_page_size: int = Field(ge=1)

    @model_validator(mode="after")
    def _page_fits(self) -> "PaginationSpec":
        if self.page_size > self.max_page_size:
            raise ValueError("page_size exceeds max_page_size")
        return self


class RateLimitSpec(_Spec):
    per_minute: int | None = Field(default=None, ge=1)
    per_day: int | None = Field(default=None, ge=1)
    concurrency: int | None = Field(default=None, ge=1)
    retry_hints: tuple[RetryHint, ...] = (RetryHint.AFTER,)
    retry_after_header: str = "Retry-After"
    remaining_header: str | None = None
    """A header with the calls left in the current minute."""
    day_remaining_header: str | None = None
    """A header with the calls left in the system's day."""


class ConnectorSpec(_Spec):
    system: str
    display_name: str
    roles: tuple[ConnectorRole, ...]
    urls: dict[str, str]
    """Named production URLs (api, token, gateway…)."""
    sandbox_paths: dict[str, str]
    """The same names as paths on the Ledgerline sandbox, for tests and the demo."""
    answer_hosts: tuple[str, ...] = ()
    """Hosts an answer may send us on to (an Intacct session endpoint, a Fyle download URL), besides those of `urls`;
    `*.example.com` matches its subdomains. Always over https (`connectors.answer_urls`)."""
    auth: AuthSpec
    pagination: PaginationSpec
    rate_limit: RateLimitSpec = RateLimitSpec()
    batch_size: int = Field(default=1, ge=1)
    """Documents (or functions) sent in one call."""
    streams: tuple[str, ...] = ()
    """Source streams (expenses, reports, employees) or destination dimension types it imports."""
    settings: tuple[SettingField, ...] = ()
    """Connection settings of this system's own; a connection refuses any other than these and the shared ones."""
    documents: tuple[DocumentSpec, ...] = ()
    """What a destination creates; empty for a source."""
    idempotency: IdempotencySpec | None = None
    attribute_types: tuple[AttributeTypeSpec, ...] = ()
    """A destination's attribute types with their labels and roles; every destination stream is one of them."""
    user_dimensions: UserDimensionSpec | None = None
    """Whether companies define dimensions of their own (line dimensions), and how Ledgerline names them."""
    webhook_scheme: str | None = None
    """How the system signs the webhooks it posts to Ledgerline (a scheme `webhooks.verifiers` knows, such as
    `standard-webhooks`); None when it posts none. The connector reads its payloads (`Connector.webhook_events`)."""
    webhook_address: WebhookAddress = WebhookAddress.CONNECTION
    webhook_account_setting: str | None = None
    """With `webhook_address: app`: the connection setting holding the account id a delivery names (QuickBooks'
    realm id). It must be written by Ledgerline, never by a person: whoever could set it would receive that
    account's news."""
    webhook_secret_field: str | None = None
    """With `webhook_address: app`: the secret app field (`auth.app_fields`) holding the app's signing secret, read
    from Ledgerline's settings (`connector_apps`)."""
    webhook_answer: WebhookAnswer = WebhookAnswer.DETAILED
    """With `webhook_address: app`: how a delivery taken is answered (refusals are problem+json either way)."""

    @model_validator(mode="after")
    def _sandbox_mirrors_urls(self) -> "ConnectorSpec":
        if set(self.sandbox_paths) != set(self.urls):
            raise ValueError("sandbox_paths must name the same URLs as urls")
        insecure = sorted(name for name, url in self.urls.items() if httpx.URL(url).scheme != SECURE_SCHEME)
        if insecure:
            # Credentials travel with every call: production URLs are https without exception.
            raise ValueError(f"urls must be {SECURE_SCHEME}: {', '.join(insecure)}")
        if self.auth.mode is AuthMode.OAUTH2 and not {"authorize", "token"} <= set(self.urls):
            raise ValueError("an oauth2 system needs `authorize` and `token` URLs")
        kinds = [document.kind for document in self.documents]
        if len(set(kinds)) != len(kinds):
            raise ValueError("a document kind is declared twice")
        if ConnectorRole.DESTINATION in self.roles and (not self.documents or self.idempotency is None):
            raise ValueError("a destination declares the documents it creates and its idempotency")
        if ConnectorRole.DESTINATION in self.roles:
            self._check_attribute_types()
        elif self.attribute_types or self.user_dimensions is not None:
            raise ValueError("only a destination declares attribute types")
        self._check_webhook_address()
        return self

    def _check_webhook_address(self) -> None:
        if self.webhook_address is WebhookAddress.CONNECTION:
            if (
                self.webhook_account_setting is not None
                or self.webhook_secret_field is not None
                or self.webhook_answer is not WebhookAnswer.DETAILED
            ):
                raise ValueError(
                    "webhook_account_setting, webhook_secret_field and webhook_answer need webhook_address: app"
                )
            return
        if self.webhook_scheme is None:
            raise ValueError("webhook_address: app needs a webhook_scheme")
        setting = next((item for item in self.settings if item.name == self.webhook_account_setting), None)
        if setting is None:
            raise ValueError("webhook_address: app needs webhook_account_setting, one of the declared settings")
        if setting.written_by is not SettingWriter.SYSTEM:
            # A person could name another tenant's account, and receive its news.
            raise ValueError(f"webhook_account_setting {setting.name!r} must be written_by: system")
        secret = next((item for item in self.auth.app_fields if item.name == self.webhook_secret_field), None)
        if secret is None or not secret.secret:
            raise ValueError("webhook_address: app needs webhook_secret_field, a declared secret app field")

    def _check_attribute_types(self) -> None:
        declared = {attribute.name: attribute for attribute in self.attribute_types}
        if len(declared) != len(self.attribute_types):
            raise ValueError("an attribute type is declared twice")
        undeclared = [stream for stream in self.streams if stream not in declared]
        if undeclared:
            raise ValueError(f"streams {', '.join(undeclared)} are not declared attribute types")
        for role in _SINGULAR_ROLES:
            playing = [attribute.name for attribute in self.attribute_types if role in attribute.roles]
            if len(playing) > 1:
                raise ValueError(f"only one attribute type may play {role}: {', '.join(playing)} do")
        for document in self.documents:
            if document.funds and document.category_type is None:
                raise ValueError(f"document {document.kind} is exported from expenses and needs a category_type")
            for name, role in document.named_types():
                attribute = declared.get(name)
                if attribute is None:
                    raise ValueError(f"document {document.kind} names {name!r}, which is not a declared attribute type")
                if role not in attribute.roles:
                    raise ValueError(f"document {document.kind} uses {name!r} as {role}, which it cannot play")

    def document(self, kind: DocumentKind) -> DocumentSpec:
        """The declaration of `kind`; `KeyError` when the system does not create it."""
        for document in self.documents:
            if document.kind is kind:
                return document
        raise KeyError(kind)

    def export_kinds(self, fund: Fund) -> tuple[DocumentKind, ...]:
        """The kinds `fund`'s expenses may be exported as, the default first."""
        return tuple(document.kind for document in self.documents if fund in document.funds)

    def url(self, name: str, *, sandbox_base: str | None = None) -> str:
        """A named URL: production, or its sandbox twin when a sandbox base URL is configured."""
        if sandbox_base:
            return sandbox_base.rstrip("/") + self.sandbox_paths[name]
        return self.urls[name]


@cache
def load_spec(system: str) -> ConnectorSpec:
    """Read and validate `connectors/<system>/spec.yaml`."""
    text = files(f"connectors.{system}").joinpath("spec.yaml").read_text()
    return ConnectorSpec.model_validate(yaml.safe_load(text))
