"""What the app factory puts on `app.state`, read typed: the one place the web surfaces take their process-wide
resources from (as FastAPI dependencies, or from a request in a handler)."""

from starlette.requests import HTTPConnection

from core.crypto import CredentialVault
from core.db import Database
from core.settings import Settings
from sync.queue import Queue


def database_of(request: HTTPConnection) -> Database:
    database: Database = request.app.state.database
    return database


def settings_of(request: HTTPConnection) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def queue_of(request: HTTPConnection) -> Queue:
    queue: Queue = request.app.state.queue
    return queue


def vault_of(request: HTTPConnection) -> CredentialVault:
    vault: CredentialVault = request.app.state.vault
    return vault
