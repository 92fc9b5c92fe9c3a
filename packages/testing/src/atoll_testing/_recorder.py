"""The recorder: proxy requests to a real upstream and save each exchange as a corpus case."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import msgspec
from atoll_wire import redact_url

from ._cases import Case, CaseResponse
from ._dialect import ServerDialect
from ._expect import empty_expect
from ._http import Request
from ._reply import Reply

# Not forwarded upstream: hop-by-hop, and accept-encoding so the body is recorded as text.
_DROP_UP = frozenset(
    {"host", "connection", "content-length", "transfer-encoding", "accept-encoding", "keep-alive"}
)
# Not copied back: framing and identity headers this server writes itself.
_DROP_DOWN = frozenset(
    {
        "connection",
        "content-length",
        "transfer-encoding",
        "content-encoding",
        "content-type",
        "date",
        "server",
        "keep-alive",
    }
)


def _unrouted_dialect(path: str) -> str:
    """The corpus dialect of a path no server dialect claims (Gemini has no server side yet)."""
    return "gemini" if "generateContent" in path else "unknown"


class Recorder:
    """Forward every request to ``upstream`` and write the exchange as a case file.

    Keys the client sends (``authorization``, ``x-api-key``) are passed upstream and never
    written: cases hold the request body and the response only, as the corpus format says.

    Args:
        upstream: Base the request path is appended to, e.g. ``https://api.openai.com``
            (a client using ``srv.base_url`` then reaches ``https://api.openai.com/v1/...``).
        directory: Where cases go: ``<directory>/<dialect>/<provider>-<n>.json``.
        provider: Provider name stored in the cases.
        license: Licence the recordings are released under; the corpus format wants it at the
            end of ``source`` (``MIT``, ``Apache-2.0`` or a ``BSD`` variant pass its checker).
        timeout: Seconds to wait for the upstream.
    """

    def __init__(
        self,
        upstream: str,
        directory: str | Path,
        *,
        provider: str = "unknown",
        license: str = "MIT",
        timeout: float = 120.0,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.license = license
        self.directory = Path(directory)
        self.provider = provider
        self.timeout = timeout
        self.recorded: list[Path] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        upstream = redact_url(self.upstream)
        return f"Recorder(upstream={upstream!r}, directory={str(self.directory)!r})"

    async def forward(self, request: Request, dialect: ServerDialect | None = None) -> Reply:
        """Proxy one request; streams pass through piece by piece as the upstream sends them.

        The blocking upstream call runs in a worker thread that hands the response head, then
        each body piece, to the server's loop.

        Args:
            request: The request as received.
            dialect: The server dialect whose route matched (files the case and works out its
                ``expect``), or None when no route matched.
        """
        loop = asyncio.get_running_loop()
        head: asyncio.Future[Reply] = loop.create_future()
        pieces: asyncio.Queue[bytes | None] = asyncio.Queue()

        def deliver(reply: Reply) -> None:
            if not head.done():
                head.set_result(reply)

        def hand(call: Callable[[], None]) -> None:
            try:
                loop.call_soon_threadsafe(call)
            except RuntimeError:  # the server stopped meanwhile; nobody is listening
                pass

        worker = threading.Thread(
            target=self._exchange,
            args=(request, dialect, hand, deliver, pieces),
            name="atoll-recorder",
            daemon=True,
        )
        worker.start()
        return await head

    def _exchange(
        self,
        request: Request,
        dialect: ServerDialect | None,
        hand: Callable[[Callable[[], None]], None],
        deliver: Callable[[Reply], None],
        pieces: asyncio.Queue[bytes | None],
    ) -> None:
        url = self.upstream + request.path
        headers = {k: v for k, v in request.headers.items() if k not in _DROP_UP}
        upstream = urllib.request.Request(
            url + (f"?{request.query}" if request.query else ""),
            data=request.body or None,
            headers=headers,
            method=request.method,
        )
        try:
            resp = urllib.request.urlopen(upstream, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            resp = exc
        except (urllib.error.URLError, OSError) as exc:
            shown = redact_url(url)  # a key in the upstream URL must not reach the client or logs
            message = f"atoll_testing recorder: upstream {shown} unreachable: {exc}"
            body = msgspec.json.encode({"error": {"message": message}})
            hand(lambda: deliver(Reply(502, b"application/json", body)))
            return
        with resp:
            status: int = resp.status or 0
            content_type = resp.headers.get("content-type", "application/octet-stream")
            # Response headers go back to the local client only; cases never store headers.
            back = [(k.lower(), v) for k, v in resp.headers.items() if k.lower() not in _DROP_DOWN]
            if not content_type.startswith("text/event-stream"):
                body = resp.read()
                self._save(self._case(request, dialect, url, status, content_type, body, []))
                hand(lambda: deliver(Reply(status, content_type.encode(), body, headers=back)))
                return
            reply = Reply(status, content_type.encode(), headers=back, source=_drain(pieces))
            hand(lambda: deliver(reply))
            received: list[bytes] = []
            notes: list[str] = []
            try:
                while data := resp.read1(65536):
                    received.append(data)
                    hand(lambda data=data: pieces.put_nowait(data))
            except OSError as exc:
                notes.append(f"upstream stream broke after {sum(map(len, received))} bytes: {exc}")
            # Saved before the stream ends, so a client that saw the end also sees the file.
            body = b"".join(received)
            self._save(self._case(request, dialect, url, status, content_type, body, notes))
            hand(lambda: pieces.put_nowait(None))

    def _case(
        self,
        request: Request,
        dialect: ServerDialect | None,
        url: str,
        status: int,
        content_type: str,
        body: bytes,
        notes: list[str],
    ) -> Case:
        name = dialect.corpus_dialect if dialect is not None else ""
        name = name or _unrouted_dialect(request.path)
        stream = content_type.startswith("text/event-stream")
        text = body.decode("utf-8", errors="replace")
        expect = None if dialect is None else dialect.expect(text, stream, status)
        if expect is None:
            expect = empty_expect()
            unparsed = f"expect not computed: atoll_testing does not parse the {name} dialect"
            notes = [*notes, unparsed]
        try:
            req_json: object = msgspec.json.decode(request.body) if request.body else None
        except msgspec.DecodeError:
            req_json = None
            notes.append("request body was not JSON; stored as null")
        return Case(
            source=f"atoll_testing recorder @ {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
            f" ({self.license})",
            dialect=name,
            provider=self.provider,
            stream=stream,
            endpoint=f"{request.method} {redact_url(url)}",
            exercises=f"recorded {request.method} {request.path}",
            request=req_json,
            response=CaseResponse(status=status, content_type=content_type, body=text),
            expect=expect,
            notes=notes,
            recorded_body_form="verbatim",
        )

    def _save(self, case: Case) -> None:
        with self._lock:
            folder = self.directory / case.dialect
            n = len(self.recorded) + 1
            path = folder / f"{self.provider}-{n:04d}.json"
            while path.exists():
                n += 1
                path = folder / f"{self.provider}-{n:04d}.json"
            case.write(path)
            self.recorded.append(path)


async def _drain(pieces: asyncio.Queue[bytes | None]) -> AsyncIterator[bytes]:
    while (piece := await pieces.get()) is not None:
        yield piece
