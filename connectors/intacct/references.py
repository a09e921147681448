"""Finding documents again: by the reference each one stores (`documents.REFERENCES`), and their record URLs.

Several lookups share one request, one `query` function each, so reconciling a whole batch after a lost answer
costs one call.
"""

from collections.abc import Sequence

from connectors.intacct.constants import READ_KEYS_PER_CALL
from connectors.intacct.documents import REFERENCES
from connectors.intacct.envelope import Function
from connectors.intacct.gateway import Gateway, new_control_id
from connectors.intacct.reads import query_equal, read_keys
from core.domain import DocumentKind, RemoteDocument
from core.errors import LedgerlineError

RECORD_NUMBER = "RECORDNO"
Found = RemoteDocument | LedgerlineError | None
"""The document (adopted), the lookup's own failure, or None when no document holds the reference."""


async def find_many(gateway: Gateway, wanted: Sequence[tuple[DocumentKind, str]]) -> list[Found]:
    """Each (kind, reference) looked up in one request; the oldest match wins if there are several."""
    functions = []
    for kind, reference in wanted:
        stored = REFERENCES[kind]
        fields = (RECORD_NUMBER, stored.url_field) if stored.url_field else (RECORD_NUMBER,)
        functions.append(
            Function(new_control_id(), query_equal(stored.object, fields, stored.reference_field, reference))
        )
    answer = await gateway.call(functions)
    found: list[Found] = []
    for index, (kind, _) in enumerate(wanted):
        result = answer.results[index]
        rows = result.rows() if result.ok else []
        url_field = REFERENCES[kind].url_field
        if not result.ok:
            found.append(answer.error(index))
        elif rows:
            url = rows[0].get(url_field) if url_field else None
            found.append(RemoteDocument(rows[0][RECORD_NUMBER], url=url or None, adopted=True))
        else:
            found.append(None)
    return found


async def record_urls(
    gateway: Gateway, created: Sequence[tuple[DocumentKind, str]]
) -> dict[tuple[DocumentKind, str], str]:
    """RECORD_URL of newly created documents (a create answers with the record number only).

    The URL is a convenience for people: if reading it fails, the documents exist all the same, so the failure
    is not an outcome of theirs and the URLs are simply left out.
    """
    wanted: dict[DocumentKind, list[str]] = {}
    for kind, remote_id in created:
        if REFERENCES[kind].url_field:
            wanted.setdefault(kind, []).append(remote_id)
    calls: list[tuple[DocumentKind, str, Function]] = []
    for kind, ids in wanted.items():
        stored = REFERENCES[kind]
        url_field = stored.url_field or ""
        for start in range(0, len(ids), READ_KEYS_PER_CALL):
            body = read_keys(stored.object, (RECORD_NUMBER, url_field), ids[start : start + READ_KEYS_PER_CALL])
            calls.append((kind, url_field, Function(new_control_id(), body)))
    if not calls:
        return {}
    try:
        answer = await gateway.call([function for _, _, function in calls])
    except LedgerlineError:
        return {}
    urls: dict[tuple[DocumentKind, str], str] = {}
    for (kind, url_field, _), result in zip(calls, answer.results, strict=True):
        for row in result.rows() if result.ok else []:
            if row.get(url_field):
                urls[(kind, row[RECORD_NUMBER])] = row[url_field]
    return urls
