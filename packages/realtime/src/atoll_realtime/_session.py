"""``RealtimeSession``: one realtime conversation over WebSocket, with neutral events."""

from __future__ import annotations

import os
import re
import ssl
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from types import TracebackType
from typing import Any, cast
from urllib.parse import quote

import anyio
import anyio.abc
import msgspec
from atoll_registry import Cost, ModelSpec, ProviderSpec, Registry
from atoll_tools import ApprovalCallback, ToolSet
from atoll_wire import ToolSpec

from ._adapter import RealtimeAdapter
from ._audio import chunk_pcm16
from ._config import ENDPOINTS, AudioFormat, Modality, RealtimeEndpoint, SessionConfig
from ._events import (
    AudioDelta,
    RawEvent,
    RealtimeError,
    RealtimeEvent,
    Reconnected,
    ResponseDone,
    TextDelta,
    ToolCall,
    ToolResult,
    Transcript,
)
from ._exceptions import (
    RealtimeAuthError,
    RealtimeClosedError,
    RealtimeConnectError,
    RealtimeConnectionLost,
    RealtimeSessionError,
)
from ._openai import ADAPTERS
from ._toolrunner import ToolRunner
from ._websocket import HandshakeRefused, WebSocket, connect_websocket

__all__ = ["RealtimeSession"]

# Key-like text and masked keys ("sk-abc*****wxyz", as OpenAI echoes a wrong key).
_KEYLIKE = re.compile(r"\b(?:sk|rk|pk|sess)-[A-Za-z0-9_\-*.]{3,}|[^\s'\"]*\*{3,}[^\s'\",.]*")
_AUDIO_SHAPE: dict[str, tuple[int, int]] = {  # (sample rate, bytes per sample)
    "pcm16": (24_000, 2),
    "g711_ulaw": (8_000, 1),
    "g711_alaw": (8_000, 1),
}


def _scrub(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "[redacted]")
    return _KEYLIKE.sub("[redacted]", text)


class RealtimeSession:
    """A realtime session: text or speech in, text or speech out, tools mid-conversation.

    ``async with RealtimeSession("openai/gpt-realtime") as session`` connects (bearer key,
    WebSocket handshake), waits for the provider's ``session.created``, sends the session
    configuration and waits for it to be applied; then send with :meth:`send_text`,
    :meth:`send_audio` / :meth:`commit_audio`, :meth:`create_response`, and read with
    ``async for event in session.events()``. Works on asyncio and trio.

    Args:
        model: A registry name (``openai/gpt-realtime``, ``gpt-realtime-mini``, a snapshot).
        instructions: System instructions.
        tools: A ``ToolSet`` (calls run and are answered automatically, then a new response
            is requested) or ``ToolSpec`` values (declared only: answer with
            :meth:`send_tool_result`).
        voice: The output voice (``marin``, ``cedar``, ...); the provider's default if None.
        modalities: ``("text",)`` or ``("audio", "text")``: audio answers come with their
            transcript.
        audio_format: ``pcm16`` (24 kHz mono), ``g711_ulaw`` or ``g711_alaw``.
        turn_detection: ``"server_vad"``, ``"semantic_vad"``, a full provider object, or
            ``None`` for manual turns (:meth:`commit_audio` then :meth:`create_response`).
        transcription_model: Transcribe the user's audio with this model (input transcripts).
        api_key: The key; default from the provider's variable (``OPENAI_API_KEY``).
        base_url: The provider's API root (default from the registry), e.g. a local server's.
        headers: Extra handshake headers.
        registry: The registry for the model, provider and prices (default: the packaged one).
        reconnect: Reopen the session with the same configuration when the connection drops
            with a recoverable close code (the conversation itself does not survive: it lives
            on the provider's side, in the old connection).
        max_reconnects: Attempts per drop before giving up.
        approval: Approval callback for tools that need it (default: the ToolSet's).
        connect_timeout: Seconds to connect and for the session to be ready.
        close_timeout: Seconds to wait for the server's close frame.
        max_message_size: The largest server message accepted.
        extensions: Provider session fields merged as given (``{"max_output_tokens": 500}``).
        ssl_context: TLS settings for ``wss://`` (default: the system's trust store).
    """

    def __init__(
        self,
        model: str,
        *,
        instructions: str | None = None,
        tools: ToolSet | Iterable[ToolSpec] = (),
        voice: str | None = None,
        modalities: tuple[Modality, ...] = ("text",),
        audio_format: AudioFormat = "pcm16",
        turn_detection: str | Mapping[str, Any] | None = "server_vad",
        transcription_model: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        registry: Registry | None = None,
        reconnect: bool = False,
        max_reconnects: int = 3,
        approval: ApprovalCallback | None = None,
        connect_timeout: float = 10.0,
        close_timeout: float = 2.0,
        max_message_size: int = 16 * 1024 * 1024,
        extensions: Mapping[str, Any] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if audio_format not in _AUDIO_SHAPE:
            raise ValueError(
                f"audio_format must be one of {sorted(_AUDIO_SHAPE)}, not {audio_format!r}"
            )
        if not modalities or any(m not in ("text", "audio") for m in modalities):
            raise ValueError(f"modalities must hold 'text' and/or 'audio', not {modalities!r}")
        self._registry = registry if registry is not None else Registry.default()
        self.model: ModelSpec = self._registry.resolve(model)
        """The model's registry entry (its prices price each response)."""
        self.provider: ProviderSpec = self._registry.provider(self.model.provider)
        """The provider's registry entry."""
        endpoint = ENDPOINTS.get(self.provider.name)
        if endpoint is None:
            raise RealtimeSessionError(
                f"atoll_realtime has no realtime endpoint for provider {self.provider.name!r} "
                f"(known: {', '.join(sorted(ENDPOINTS))})",
                provider=self.provider.name,
                model=self.model.qualified_name,
            )
        self._endpoint: RealtimeEndpoint = endpoint
        self._adapter: RealtimeAdapter = ADAPTERS[endpoint.adapter]()
        self._toolset = tools if isinstance(tools, ToolSet) else None
        specs = tuple(tools.specs()) if isinstance(tools, ToolSet) else tuple(tools)
        detection: dict[str, Any] | None
        if isinstance(turn_detection, str):
            detection = {"type": turn_detection}
        else:
            detection = dict(turn_detection) if turn_detection is not None else None
        self.config = SessionConfig(
            model=self.model.request_name,
            instructions=instructions,
            modalities=modalities,
            voice=voice,
            audio_format=audio_format,
            turn_detection=detection,
            transcription_model=transcription_model,
            tools=specs,
            extensions=dict(extensions or {}),
        )
        """What is sent as the session configuration on each connect."""
        self._api_key = api_key
        self._base_url = base_url
        self._headers = dict(headers or {})
        self._reconnect = reconnect
        self._max_reconnects = max_reconnects
        self._approval = approval
        self._connect_timeout = connect_timeout
        self._close_timeout = close_timeout
        self._max_message_size = max_message_size
        self._ssl_context = ssl_context
        self._ws: WebSocket | None = None
        self._group: anyio.abc.TaskGroup | None = None
        self._runner: ToolRunner | None = None
        self._injected: deque[RealtimeEvent] = deque()
        self._partial: list[RealtimeEvent] = []
        self._response_id: str | None = None
        self._audio_item_id = ""
        self._reconnects = 0
        self._closed = False
        self.session: dict[str, Any] = {}
        """The provider's view of the session, from its last ``session.updated``."""

    def __repr__(self) -> str:  # never the key or the auth headers
        state = "closed" if self._closed else ("open" if self._ws is not None else "not open")
        return f"RealtimeSession(model={self.model.qualified_name!r}, {state})"

    # ------------------------------------------------------------------ connection

    @property
    def url(self) -> str:
        """The WebSocket URL (the model in the query; no credentials ever appear here)."""
        base = self._base_url or self.provider.base_url
        if base is None:
            raise RealtimeConnectError(
                f"provider {self.provider.name!r} needs a base_url", provider=self.provider.name
            )
        param = f"{self._endpoint.model_param}={quote(self.model.request_name, safe='')}"
        return f"{base.rstrip('/')}{self._endpoint.path}?{param}"

    def _key(self) -> str | None:
        if self._api_key is not None:
            return self._api_key
        env = self.provider.api_key_env
        return os.environ.get(env) if env else None

    def _handshake_headers(self, key: str | None) -> dict[str, str]:
        headers = {"User-Agent": "atoll-realtime/0.1.0", **self._endpoint.headers}
        headers.update(self.provider.auth_headers(key))
        headers.update(self._headers)
        return headers

    async def __aenter__(self) -> RealtimeSession:
        if self._group is not None or self._closed:
            raise RealtimeClosedError("a RealtimeSession opens once; create a new one")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        if self._toolset is not None:
            self._runner = ToolRunner(self._toolset, self._approval, group)
        try:
            await self._connect()
        except BaseException:
            # Nothing runs in the group yet: close it cleanly and raise the error itself, not
            # wrapped in an ExceptionGroup.
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)
            self._group = None
            self._closed = True
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        await self.aclose()
        return None

    async def aclose(self) -> None:
        """Close the WebSocket (close handshake) and stop running tool calls. Idempotent."""
        if self._closed and self._group is None:
            return
        self._closed = True
        if self._ws is not None:
            await self._ws.aclose()
        group, self._group = self._group, None
        if group is not None:
            group.cancel_scope.cancel()
            await group.__aexit__(None, None, None)

    def _error(
        self, cls: type[RealtimeConnectError], message: str, **fields: Any
    ) -> RealtimeConnectError:
        return cls(message, provider=self.provider.name, model=self.model.qualified_name, **fields)

    async def _connect(self) -> None:
        key = self._key()
        if self.provider.key_required and not key:
            env = self.provider.api_key_env or "the provider's key variable"
            raise self._error(RealtimeAuthError, f"no API key: pass api_key= or set {env}")
        try:
            ws = await connect_websocket(
                self.url,
                self._handshake_headers(key),
                subprotocols=self._endpoint.subprotocols,
                connect_timeout=self._connect_timeout,
                close_timeout=self._close_timeout,
                max_message_size=self._max_message_size,
                ssl_context=self._ssl_context,
            )
        except HandshakeRefused as exc:
            raise self._refused(exc, key) from None
        except RealtimeConnectError as exc:
            raise self._error(RealtimeConnectError, _scrub(exc.message, key)) from exc.__cause__
        self._ws = ws
        try:
            with anyio.fail_after(self._connect_timeout):
                await self._start(ws, key)
        except TimeoutError:
            await ws.aclose()
            raise self._error(
                RealtimeConnectError,
                f"the session was not ready within {self._connect_timeout} s",
            ) from None
        except BaseException:
            await ws.aclose()
            raise

    def _refused(self, exc: HandshakeRefused, key: str | None) -> RealtimeConnectError:
        body = _scrub(exc.body[:2000], key)
        message, code = body, None
        try:
            data: Any = msgspec.json.decode(exc.body)
            error: Any = cast(dict[str, Any], data).get("error") if isinstance(data, dict) else None
            if isinstance(error, dict):
                fields = cast(dict[str, Any], error)
                message = _scrub(str(fields.get("message", body)), key)
                raw_code = fields.get("code")
                code = raw_code if isinstance(raw_code, str) else None
        except msgspec.DecodeError:
            pass
        status = exc.status
        cls = RealtimeAuthError if status in (401, 403) else RealtimeConnectError
        text = f"{self.provider.name} refused the realtime session (HTTP {status})"
        if message:
            text += f": {message[:300]}"
        return self._error(cls, text, status=status, body=body, code=code)

    async def _start(self, ws: WebSocket, key: str | None) -> None:
        created = False
        updated = False
        decode = self._adapter.decode
        while not updated:
            try:
                messages = await ws.receive()
            except RealtimeConnectionLost as exc:
                raise self._error(
                    RealtimeConnectError,
                    f"the connection closed before the session was ready (close code "
                    f"{exc.close_code}{': ' + _scrub(exc.reason, key) if exc.reason else ''})",
                ) from None
            for payload in messages:
                event = decode(payload)
                if isinstance(event, RealtimeError):
                    cls = (
                        RealtimeAuthError
                        if event.code == "invalid_api_key"
                        else RealtimeConnectError
                    )
                    raise self._error(
                        cls,
                        f"{self.provider.name} refused the session: {_scrub(event.message, key)}",
                        code=event.code,
                    )
                if not created and self._adapter.is_session_created(event):
                    created = True
                    await ws.send_text(self._adapter.session_update(self.config))
                elif created and self._adapter.is_session_ready(event):
                    updated = True
                    assert isinstance(event, RawEvent)
                    session: Any = event.data.get("session")
                    self.session = session if isinstance(session, dict) else {}
                elif updated:
                    self._injected.append(event)

    # ------------------------------------------------------------------ sending

    def _socket(self) -> WebSocket:
        ws = self._ws
        if ws is None or self._closed:
            raise RealtimeClosedError(
                "the realtime session is not open",
                provider=self.provider.name,
                model=self.model.qualified_name,
            )
        return ws

    async def send_event(self, event: Mapping[str, Any]) -> None:
        """Send any provider client event as given (for what has no method here)."""
        await self._socket().send_text(msgspec.json.encode(dict(event)))

    async def send_text(self, text: str) -> None:
        """Add a user text message to the conversation (then :meth:`create_response`)."""
        await self._socket().send_text(self._adapter.user_text(text))

    async def send_audio(self, pcm: bytes) -> None:
        """Append audio to the input buffer, in the provider's preferred chunk size.

        Each chunk is one event; sending waits while the socket is full (backpressure), so a
        long recording never piles up in memory.

        Args:
            pcm: Audio in the session's ``audio_format`` (PCM16: 24 kHz mono little-endian).

        Raises:
            AudioFormatError: PCM16 audio that is not whole 16-bit samples.
        """
        ws = self._socket()
        rate, width = _AUDIO_SHAPE[self.config.audio_format]
        chunk_ms = self._endpoint.preferred_chunk_ms
        if width == 2:
            chunks = chunk_pcm16(pcm, chunk_ms=chunk_ms, rate=rate)
        else:
            size = rate * chunk_ms // 1000
            chunks = (pcm[i : i + size] for i in range(0, len(pcm), size))
        append = self._adapter.audio_append
        for chunk in chunks:
            await ws.send_text(append(chunk))

    async def commit_audio(self) -> None:
        """Commit the input buffer as a user message (manual turns; VAD commits by itself)."""
        await self._socket().send_text(self._adapter.audio_commit())

    async def clear_audio(self) -> None:
        """Drop the audio appended since the last commit."""
        await self._socket().send_text(self._adapter.audio_clear())

    async def create_response(
        self,
        *,
        instructions: str | None = None,
        modalities: tuple[Modality, ...] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        """Ask the model to respond now; the arguments apply to this response only."""
        overrides: dict[str, Any] = {}
        if instructions is not None:
            overrides["instructions"] = instructions
        if modalities is not None:
            overrides["output_modalities"] = ["audio"] if "audio" in modalities else ["text"]
        overrides.update(extensions or {})
        await self._socket().send_text(self._adapter.response_create(overrides))

    async def cancel_response(self, *, played_ms: int | None = None) -> None:
        """Stop the response in progress (barge-in).

        Args:
            played_ms: How much of the current audio answer the user heard; the provider then
                cuts that item there, so the conversation holds only what was heard.
        """
        ws = self._socket()
        await ws.send_text(self._adapter.response_cancel(self._response_id))
        if played_ms is not None and self._audio_item_id:
            await ws.send_text(self._adapter.truncate(self._audio_item_id, played_ms))

    async def send_tool_result(self, call_id: str, output: str, *, respond: bool = True) -> None:
        """Answer a tool call yourself (sessions given ``ToolSpec`` values, not a ToolSet).

        Args:
            call_id: ``ToolCall.call_id``.
            output: The result as text (JSON text for structured results).
            respond: Ask for the next response right after.
        """
        ws = self._socket()
        await ws.send_text(self._adapter.tool_output(call_id, output))
        if respond:
            await ws.send_text(self._adapter.response_create({}))

    async def _answer_tools(self, results: list[ToolResult]) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            return
        try:
            for result in results:
                await ws.send_text(self._adapter.tool_output(result.call_id, result.output))
                self._injected.append(result)
            await ws.send_text(self._adapter.response_create({}))
        except RealtimeSessionError:
            pass  # the connection went: events() reports it

    # ------------------------------------------------------------------ receiving

    def events(self, *, raw: bool = False) -> AsyncIterator[RealtimeEvent]:
        """The session's events, as they arrive, until the session closes.

        Read them from one task at a time. Leaving the loop early is fine: the iterator holds
        no resources (it is not an async generator, so nothing waits for garbage collection).

        Args:
            raw: Also yield the provider's lifecycle events that have no neutral form
                (``session.updated``, ``response.created``, ...) as ``RawEvent``. Event types
                the library does not know at all are always yielded as ``RawEvent``.

        Raises:
            RealtimeConnectionLost: The connection dropped (with ``partial``, the events of the
                unfinished response) and was not, or could not be, reopened.
            RealtimeProtocolError: The server broke the WebSocket protocol.
        """
        return _EventStream(self, raw)

    def _observe_raw(self, event: RealtimeEvent) -> None:
        started = self._adapter.response_started(event)
        if started is not None:
            self._response_id = started
            self._partial.clear()
        elif self._adapter.is_session_ready(event):
            session: Any = cast(RawEvent, event).data.get("session")
            if isinstance(session, dict):
                self.session = cast(dict[str, Any], session)

    def _observe(self, event: RealtimeEvent) -> RealtimeEvent:
        if isinstance(event, ToolCall):
            self._partial.append(event)
            if self._runner is not None:
                self._runner.start(event)
        elif isinstance(event, ResponseDone):
            event = self._priced(event)
            self._partial.clear()
            if event.response_id == self._response_id:
                self._response_id = None
            runner = self._runner
            if runner is not None:
                if event.status == "completed":
                    for call in event.tool_calls:
                        runner.start(call)
                    runner.finish(event.response_id, self._answer_tools)
                else:
                    runner.finish(event.response_id, _ignore)
        return event

    def _priced(self, done: ResponseDone) -> ResponseDone:
        usage = done.usage
        if usage is None:
            return msgspec.structs.replace(done, cost_note="the provider sent no usage")
        if usage.input_image_tokens:
            note = "image input tokens have no price in the registry"
            return msgspec.structs.replace(done, cost_note=note)
        result = self._registry.explain_cost(self.model, usage)
        if isinstance(result, Cost):
            return msgspec.structs.replace(done, cost=result)
        return msgspec.structs.replace(done, cost_note=result.reason)

    async def _after_loss(self, ws: WebSocket, exc: RealtimeConnectionLost) -> Reconnected | None:
        partial = tuple(self._partial)
        if ws.closed_by_client or self._closed:
            return None
        await ws.aclose()  # the socket is gone; release it before anything else
        if exc.close_code == 1000 and self._response_id is None:
            return None  # the server ended the session on purpose, between responses
        if self._runner is not None:
            self._runner.forget()
        if not (self._reconnect and exc.recoverable):
            raise RealtimeConnectionLost(
                exc.message,
                close_code=exc.close_code,
                reason=exc.reason,
                partial=partial,
                provider=self.provider.name,
                model=self.model.qualified_name,
            ) from exc
        last: BaseException = exc
        for attempt in range(self._max_reconnects):
            await anyio.sleep(min(0.1 * 2**attempt, 2.0))
            try:
                await self._connect()
            except RealtimeAuthError:
                raise
            except RealtimeConnectError as error:
                last = error
                continue
            self._reconnects += 1
            self._partial = []
            self._response_id = None
            return Reconnected(
                attempt=self._reconnects,
                close_code=exc.close_code,
                reason=exc.reason,
                lost_text="".join(e.text for e in partial if isinstance(e, TextDelta)),
                lost_audio_bytes=sum(len(e.audio) for e in partial if isinstance(e, AudioDelta)),
            )
        raise RealtimeConnectionLost(
            f"{exc.message}; {self._max_reconnects} reconnection attempts failed",
            close_code=exc.close_code,
            reason=exc.reason,
            partial=partial,
            provider=self.provider.name,
            model=self.model.qualified_name,
        ) from last


class _EventStream:
    """``RealtimeSession.events()``: decodes a batch of messages per socket read."""

    __slots__ = ("_batch", "_index", "_known", "_raw", "_session")

    def __init__(self, session: RealtimeSession, raw: bool) -> None:
        self._session = session
        self._raw = raw
        self._known = session._adapter.known_types  # pyright: ignore[reportPrivateUsage]
        self._batch: list[bytes] = []
        self._index = 0

    def __aiter__(self) -> _EventStream:
        return self

    async def __anext__(self) -> RealtimeEvent:
        s = self._session
        decode = s._adapter.decode  # pyright: ignore[reportPrivateUsage]
        while True:
            if s._injected:  # pyright: ignore[reportPrivateUsage]
                return s._injected.popleft()  # pyright: ignore[reportPrivateUsage]
            batch = self._batch
            index = self._index
            while index < len(batch):
                event = decode(batch[index])
                index += 1
                cls = type(event)
                if cls is TextDelta or cls is Transcript:
                    self._index = index
                    s._partial.append(event)  # pyright: ignore[reportPrivateUsage]
                    return event
                if cls is AudioDelta:
                    self._index = index
                    s._partial.append(event)  # pyright: ignore[reportPrivateUsage]
                    s._audio_item_id = cast(AudioDelta, event).item_id  # pyright: ignore[reportPrivateUsage]
                    return event
                if cls is RawEvent:
                    s._observe_raw(event)  # pyright: ignore[reportPrivateUsage]
                    if self._raw or cast(RawEvent, event).type not in self._known:
                        self._index = index
                        return event
                    continue
                self._index = index
                return s._observe(event)  # pyright: ignore[reportPrivateUsage]
            self._batch = []
            self._index = 0
            ws = s._ws  # pyright: ignore[reportPrivateUsage]
            if ws is None or s._closed:  # pyright: ignore[reportPrivateUsage]
                raise StopAsyncIteration
            try:
                self._batch = await ws.receive()
            except RealtimeConnectionLost as exc:
                reconnected = await s._after_loss(ws, exc)  # pyright: ignore[reportPrivateUsage]
                if reconnected is None:
                    raise StopAsyncIteration from None
                return reconnected


async def _ignore(results: list[ToolResult]) -> None:
    """Results of a response that did not complete are not sent back."""
