"""Read a download's body up to a byte cap, counting the bytes as they will be kept: decoded.

httpx decodes a gzip body a received chunk at a time, and one 64 KiB chunk of a compression bomb inflates to tens of
megabytes before any cap can look at it. So a download asks for `identity`, reads the raw stream, and inflates gzip
or deflate itself, never more than the cap allows plus one byte.
"""

import zlib
from collections.abc import Callable

import httpx

IDENTITY = "identity"
_DECODERS: dict[str, Callable[[], "zlib._Decompress"]] = {
    "gzip": lambda: zlib.decompressobj(wbits=16 + zlib.MAX_WBITS),
    "x-gzip": lambda: zlib.decompressobj(wbits=16 + zlib.MAX_WBITS),
    "deflate": lambda: zlib.decompressobj(wbits=32 + zlib.MAX_WBITS),  # zlib-wrapped (or gzip) as RFC 9110 says
}


class UnreadableEncoding(ValueError):
    """A body in a content coding this reader does not inflate, or whose bytes do not inflate."""


async def capped_body(response: httpx.Response, *, max_bytes: int) -> bytes | None:
    """The decoded body, or None as soon as it is known to be larger than `max_bytes` (the rest is not read)."""
    coding = response.headers.get("content-encoding", IDENTITY).strip().lower() or IDENTITY
    if coding != IDENTITY and coding not in _DECODERS:
        raise UnreadableEncoding(f"the body is encoded as {coding!r}, which is not read")
    decoder = _DECODERS[coding]() if coding in _DECODERS else None
    chunks: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            pending = raw
            while pending:
                if decoder is None:
                    data, pending = pending, b""
                else:
                    data = decoder.decompress(pending, max_bytes - size + 1)
                    pending = decoder.unconsumed_tail
                size += len(data)
                if size > max_bytes:
                    return None
                chunks.append(data)
        if decoder is not None:
            tail = decoder.flush()
            size += len(tail)
            if size > max_bytes:
                return None
            chunks.append(tail)
    except zlib.error as exc:
        raise UnreadableEncoding(f"the {coding} body does not inflate: {exc}") from exc
    return b"".join(chunks)
