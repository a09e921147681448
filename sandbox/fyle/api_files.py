"""Files: records (`/admin/files`, `/admin/files/bulk`), signed URLs (`/admin/files/generate_urls/bulk`,
`/admin/files/download`) and the storage those URLs point at (`PUT`/`GET /storage/{file_id}`).

As on Fyle, a file is created empty, its bytes are PUT to the upload URL, and the upload URL is null once the
file belongs to an expense in an approved (or later) state.
"""

import hashlib
import mimetypes
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from sandbox.fyle import render
from sandbox.fyle.constants import (
    ADMIN_PREFIX,
    APPROVED_STATES,
    FALLBACK_CONTENT_TYPE,
    MAX_UPLOAD_BYTES,
    STORAGE_PREFIX,
)
from sandbox.fyle.dimensions import parse_rows
from sandbox.fyle.errors import BadRequest, BulkError, BulkRowError, NotFound
from sandbox.fyle.records import StoredFile
from sandbox.fyle.schemas import FileIn, IdOnly
from sandbox.fyle.signed_urls import Action
from sandbox.fyle.state import FyleState
from sandbox.fyle.wire import GrantDep, StateDep, data_list, data_of, public_base

router = APIRouter(tags=["files"])


def _s3_error(status: int, code: str, message: str) -> Response:
    """Storage answers like S3, not like Fyle's API: a small XML error document."""
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(body, status_code=status, media_type="application/xml")


def _upload_allowed(state: FyleState, stored: StoredFile) -> bool:
    expense = state.store.expenses.get(stored.expense_id) if stored.expense_id else None
    return expense is None or expense.state not in APPROVED_STATES


def _urls(request: Request, state: FyleState, stored: StoredFile) -> dict[str, Any]:
    base, now = public_base(request), state.clock.now()
    return {
        "download_url": state.signer.url(base, stored.id, "download", now),
        "upload_url": state.signer.url(base, stored.id, "upload", now) if _upload_allowed(state, stored) else None,
    }


def _save(state: FyleState, item: FileIn) -> StoredFile:
    store, now = state.store, state.clock.now()
    content_type = mimetypes.guess_type(item.name)[0] or FALLBACK_CONTENT_TYPE
    existing = store.files.get(item.id) if item.id else None
    if existing is not None:
        stored = existing
        stored.name, stored.type, stored.content_type, stored.updated_at = item.name, item.type, content_type, now
    else:
        stored = StoredFile(store.new_id("fi"), item.name, item.type, content_type, item.user_id, now, now)
        store.files[stored.id] = stored
    store.record_write("files", {"id": stored.id, "name": stored.name, "type": stored.type, "user_id": item.user_id})
    return stored


def _check(state: FyleState, items: list[FileIn]) -> None:
    errors = []
    for row, item in enumerate(items):
        if state.store.employee_by_user(item.user_id) is None:
            errors.append(BulkRowError(row=row, key="user_id", message=f"user {item.user_id} not found"))
        if item.id and item.id not in state.store.files:
            errors.append(BulkRowError(row=row, key="id", message=f"file {item.id} not found"))
    if errors:
        raise BulkError(errors)


@router.post(f"{ADMIN_PREFIX}/files")
async def create_file(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    [item] = parse_rows([await data_of(request)], FileIn)
    _check(state, [item])
    stored = _save(state, item)
    return JSONResponse({"data": render.file_out(stored, **_urls(request, state, stored))})


@router.post(f"{ADMIN_PREFIX}/files/bulk")
async def create_files(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    items = parse_rows(await data_list(request), FileIn)
    _check(state, items)
    saved = [_save(state, item) for item in items]
    return JSONResponse({"data": [render.file_out(stored, **_urls(request, state, stored)) for stored in saved]})


@router.post(f"{ADMIN_PREFIX}/files/generate_urls/bulk")
async def generate_urls(request: Request, state: StateDep, _: GrantDep) -> JSONResponse:
    items = parse_rows(await data_list(request), IdOnly)
    missing = [item.id for item in items if item.id not in state.store.files]
    if missing:
        raise BadRequest(f"file(s) not found: {', '.join(missing)}")
    files = [state.store.files[item.id] for item in items]
    return JSONResponse({"data": [render.file_urls(stored, **_urls(request, state, stored)) for stored in files]})


@router.get(f"{ADMIN_PREFIX}/files/download")
async def download(
    request: Request, state: StateDep, _: GrantDep, file_id: Annotated[str, Query(alias="id")]
) -> Response:
    stored = state.store.files.get(file_id)
    if stored is None:
        raise NotFound()
    return RedirectResponse(state.signer.url(public_base(request), stored.id, "download", state.clock.now()), 302)


def _refusal(state: FyleState, file_id: str, action: Action, request: Request) -> Response | None:
    params = request.query_params
    if params.get("action") != action:
        return _s3_error(403, "AccessDenied", "This URL does not allow this method")
    reason = state.signer.verify(
        file_id, action, params.get("expires", ""), params.get("signature", ""), state.clock.now()
    )
    return None if reason is None else _s3_error(403, "AccessDenied", reason)


@router.put(STORAGE_PREFIX + "/{file_id}")
async def upload_content(file_id: str, request: Request, state: StateDep) -> Response:
    refusal = _refusal(state, file_id, "upload", request)
    if refusal is not None:
        return refusal
    stored = state.store.files.get(file_id)
    if stored is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    content = await request.body()
    if len(content) > MAX_UPLOAD_BYTES:
        return _s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    stored.content = content
    stored.content_type = request.headers.get("content-type") or stored.content_type
    stored.updated_at = state.clock.now()
    state.store.record_write(
        "file_uploads", {"id": file_id, "bytes": len(content), "content_type": stored.content_type}
    )
    return Response(status_code=200, headers={"ETag": f'"{hashlib.md5(content).hexdigest()}"'})  # noqa: S324 - S3's ETag


@router.get(STORAGE_PREFIX + "/{file_id}")
async def download_content(file_id: str, request: Request, state: StateDep) -> Response:
    refusal = _refusal(state, file_id, "download", request)
    if refusal is not None:
        return refusal
    stored = state.store.files.get(file_id)
    if stored is None or stored.content is None:
        return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
    return Response(stored.content, media_type=stored.content_type)
