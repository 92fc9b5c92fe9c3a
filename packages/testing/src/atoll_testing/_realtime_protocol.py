"""One scripted OpenAI Realtime (GA) session on a server WebSocket.

Client events handled: ``session.update``, ``conversation.item.create`` (messages and
``function_call_output``), ``input_audio_buffer.append`` / ``commit`` / ``clear``,
``response.create`` / ``cancel`` and ``conversation.item.truncate``; anything else gets the
``error`` event the real API sends for an unknown type. Turn detection is a simple energy
detector over the appended PCM16 (speech above a peak of 1,000 starts a turn, a silent chunk
after speech ends it, commits and, like ``server_vad``, creates a response).

Usage is deterministic so tests can check cost: text tokens are words, input audio is one
token per 100 ms and output audio one per 50 ms; what the conversation held when the previous
response ended counts as cached input.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from array import array
from collections.abc import Callable
from typing import Any, cast

from ._realtime_script import RealtimeScript, RealtimeToolCall, RealtimeTurn, tone_pcm16
from ._websocket_server import ConnectionClosed, ServerWebSocket

__all__ = ["RealtimeConnection"]

_ids = itertools.count(1)
_SPEECH_PEAK = 1000


def _id(prefix: str) -> str:
    return f"{prefix}_atoll{next(_ids):08d}"


def _dumps(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


class _Stop(Exception):
    """The turn's fault ended the connection."""


class RealtimeConnection:
    """The state of one connection: session config, conversation, audio buffer, response."""

    def __init__(
        self,
        ws: ServerWebSocket,
        model: str,
        script: RealtimeScript,
        log: Callable[[dict[str, Any]], None],
    ) -> None:
        self.ws = ws
        self.script = script
        self._log = log
        self.session: dict[str, Any] = {
            "type": "realtime",
            "object": "realtime.session",
            "id": _id("sess"),
            "model": model,
            "output_modalities": ["audio"],
            "instructions": "",
            "tools": [],
            "tool_choice": "auto",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "transcription": None,
                    "turn_detection": {"type": "server_vad", "create_response": True},
                },
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"},
            },
        }
        self._buffer = bytearray()
        self._buffer_ms_base = 0
        self._speaking = False
        self._last_item = ""
        self._last_user_text = ""
        self._last_audio_ms = 0
        self._history_text = 0
        self._history_audio = 0
        self._cached = (0, 0)  # (text, audio) tokens before the latest input: the cached prefix
        self._response: asyncio.Task[None] | None = None
        self._response_id = ""
        self._cancel_reason = "client_cancelled"

    # ------------------------------------------------------------------ loop

    async def run(self) -> None:
        """Serve until the client closes or a scripted fault ends the connection."""
        self.send({"type": "session.created", "event_id": _id("event"), "session": self.session})
        try:
            while True:
                text = await self.ws.receive()
                try:
                    event = json.loads(text)
                except ValueError:
                    self.error("invalid_request_error", "invalid_json", "Invalid JSON", None)
                    continue
                self._log(_loggable(event))
                await self.handle(event)
        except ConnectionClosed:
            pass
        finally:
            if self._response is not None:
                self._response.cancel()

    def send(self, event: dict[str, Any]) -> None:
        self.ws.send_text(_dumps(event))

    def error(self, kind: str, code: str | None, message: str, event_id: str | None) -> None:
        error = {
            "type": kind,
            "code": code,
            "message": message,
            "param": None,
            "event_id": event_id,
        }
        self.send({"type": "error", "event_id": _id("event"), "error": error})

    async def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "session.update":
            self._update(event.get("session") or {})
        elif kind == "conversation.item.create":
            self._item(event.get("item") or {})
        elif kind == "input_audio_buffer.append":
            self._append(base64.b64decode(event.get("audio", "")))
        elif kind == "input_audio_buffer.commit":
            self._commit()
        elif kind == "input_audio_buffer.clear":
            self._buffer.clear()
            self.send({"type": "input_audio_buffer.cleared", "event_id": _id("event")})
        elif kind == "response.create":
            self._start_response(event.get("response") or {})
        elif kind == "response.cancel":
            await self._cancel(event.get("event_id"))
        elif kind == "conversation.item.truncate":
            self.send(
                {
                    "type": "conversation.item.truncated",
                    "event_id": _id("event"),
                    "item_id": event.get("item_id"),
                    "content_index": event.get("content_index", 0),
                    "audio_end_ms": event.get("audio_end_ms", 0),
                }
            )
        else:
            self.error(
                "invalid_request_error",
                "invalid_value",
                f"Invalid value: '{kind}'. Supported values are: 'session.update', ...",
                event.get("event_id"),
            )
        await self.ws.drain()

    # ------------------------------------------------------------------ client events

    def _update(self, update: dict[str, Any]) -> None:
        changes = dict(update)  # the logged event keeps its audio settings
        audio: Any = changes.pop("audio", None)
        self.session.update(changes)
        if isinstance(audio, dict):
            sides = cast(dict[str, Any], audio)
            for side in ("input", "output"):
                if isinstance(sides.get(side), dict):
                    self.session["audio"][side].update(sides[side])
        self.send({"type": "session.updated", "event_id": _id("event"), "session": self.session})

    def _item(self, item: dict[str, Any]) -> None:
        item = {**item, "id": item.get("id") or _id("item"), "object": "realtime.item"}
        if item.get("type") == "message":
            texts = [
                c.get("text", "") for c in item.get("content", []) if c.get("type") == "input_text"
            ]
            self._last_user_text = " ".join(texts)
            self._history_text += len(self._last_user_text.split())
        previous, self._last_item = self._last_item or None, item["id"]
        for kind in ("conversation.item.added", "conversation.item.done"):
            self.send(
                {"type": kind, "event_id": _id("event"), "previous_item_id": previous, "item": item}
            )

    def _detecting(self) -> bool:
        detection = self.session["audio"]["input"].get("turn_detection")
        return isinstance(detection, dict)

    def _append(self, chunk: bytes) -> None:
        start_ms = self._buffer_ms_base + len(self._buffer) // 48
        self._buffer += chunk
        if not self._detecting() or len(chunk) < 2:
            return
        samples = array("h", chunk[: len(chunk) // 2 * 2])
        loud = max(samples, default=0) > _SPEECH_PEAK or -min(samples, default=0) > _SPEECH_PEAK
        if loud and not self._speaking:
            self._speaking = True
            self.send(
                {
                    "type": "input_audio_buffer.speech_started",
                    "event_id": _id("event"),
                    "audio_start_ms": start_ms,
                    "item_id": _id("item"),
                }
            )
            if self._response is not None:  # barge-in: VAD interrupts the answer
                self._cancel_reason = "turn_detected"
                self._response.cancel()
        elif not loud and self._speaking:
            self._speaking = False
            end_ms = self._buffer_ms_base + len(self._buffer) // 48
            self.send(
                {
                    "type": "input_audio_buffer.speech_stopped",
                    "event_id": _id("event"),
                    "audio_end_ms": end_ms,
                    "item_id": _id("item"),
                }
            )
            self._commit()
            detection = self.session["audio"]["input"]["turn_detection"]
            if detection.get("create_response", True):
                self._start_response({})

    def _commit(self) -> None:
        if not self._buffer:
            self.error(
                "invalid_request_error",
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small.",
                None,
            )
            return
        ms = len(self._buffer) // 48  # 24 kHz x 2 bytes = 48 bytes per ms
        self._buffer_ms_base += ms
        self._buffer.clear()
        self._last_audio_ms = ms
        self._history_audio += ms // 100
        item_id = _id("item")
        previous, self._last_item = self._last_item or None, item_id
        self.send(
            {
                "type": "input_audio_buffer.committed",
                "event_id": _id("event"),
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        item = {
            "id": item_id,
            "type": "message",
            "role": "user",
            "object": "realtime.item",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.send({"type": "conversation.item.added", "event_id": _id("event"), "item": item})
        if self.session["audio"]["input"].get("transcription"):
            # The transcript of this audio is scripted on the turn that will answer it.
            transcript = self.script.peek().input_transcript or f"{ms} milliseconds of audio"
            self.send(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "event_id": _id("event"),
                    "item_id": item_id,
                    "content_index": 0,
                    "transcript": transcript,
                    "usage": {"type": "duration", "seconds": ms / 1000},
                }
            )

    def _start_response(self, overrides: dict[str, Any]) -> None:
        if self._response is not None and not self._response.done():
            self.error(
                "invalid_request_error",
                "conversation_already_has_active_response",
                "Conversation already has an active response in progress.",
                None,
            )
            return
        turn = self.script.next_turn()
        modalities = overrides.get("output_modalities") or self.session["output_modalities"]
        self._response_id = _id("resp")
        self._response = asyncio.ensure_future(self._respond(turn, "audio" in modalities))

    async def _cancel(self, event_id: str | None) -> None:
        task = self._response
        if task is None or task.done():
            self.error(
                "invalid_request_error",
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                event_id,
            )
            return
        self._cancel_reason = "client_cancelled"
        task.cancel()

    # ------------------------------------------------------------------ responses

    async def _respond(self, turn: RealtimeTurn, audio: bool) -> None:
        rid = self._response_id
        stream = _Stream(self, turn)
        base = {"type": "response.created", "event_id": _id("event")}
        self.send(
            {
                **base,
                "response": {"id": rid, "object": "realtime.response", "status": "in_progress"},
            }
        )
        for extra in turn.extra_events:
            self.send(dict(extra))
        output: list[dict[str, Any]] = []
        status, details = "completed", None
        try:
            if turn.error is not None:
                kind, code, message = turn.error
                self.error(kind, code, message, None)
                status = "failed"
                details = {"type": "failed", "error": {"type": kind, "code": code}}
            elif turn.tool_calls:
                for call in turn.tool_calls:
                    output.append(await stream.tool_call(rid, call))
            else:
                text = self._answer_text(turn)
                if audio:
                    output.append(await stream.audio(rid, text, turn))
                else:
                    output.append(await stream.text(rid, text, turn))
        except asyncio.CancelledError:
            status = "cancelled"
            details = {"type": "cancelled", "reason": self._cancel_reason}
        except _Stop:
            return
        usage = self._usage(stream, turn)
        response = {
            "id": rid,
            "object": "realtime.response",
            "status": status,
            "status_details": details,
            "output": output,
            "output_modalities": ["audio" if audio else "text"],
            "usage": usage,
        }
        self.send({"type": "response.done", "event_id": _id("event"), "response": response})
        await self.ws.drain()

    def _answer_text(self, turn: RealtimeTurn) -> str:
        if turn.text is not None:
            return turn.text
        if self._last_user_text:
            return self._last_user_text
        return f"I heard {self._last_audio_ms} milliseconds of audio."

    def _usage(self, stream: _Stream, turn: RealtimeTurn) -> dict[str, Any]:
        cached_text, cached_audio = self._cached
        in_text = self._history_text + len((self.session.get("instructions") or "").split())
        in_audio = self._history_audio
        out_text, out_audio = stream.text_tokens, stream.audio_tokens
        self._history_text += out_text
        self._history_audio += out_audio
        self._cached = (self._history_text, self._history_audio)
        usage: dict[str, Any] = {
            "total_tokens": in_text + in_audio + out_text + out_audio,
            "input_tokens": in_text + in_audio,
            "output_tokens": out_text + out_audio,
            "input_token_details": {
                "text_tokens": in_text,
                "audio_tokens": in_audio,
                "image_tokens": 0,
                "cached_tokens": cached_text + cached_audio,
                "cached_tokens_details": {
                    "text_tokens": cached_text,
                    "audio_tokens": cached_audio,
                    "image_tokens": 0,
                },
            },
            "output_token_details": {"text_tokens": out_text, "audio_tokens": out_audio},
        }
        usage.update(turn.usage)
        return usage


class _Stream:
    """Streams one response's output items, counting deltas for the turn's faults."""

    def __init__(self, conn: RealtimeConnection, turn: RealtimeTurn) -> None:
        self.conn = conn
        self.turn = turn
        self.count = 0
        self.text_tokens = 0
        self.audio_tokens = 0

    async def _delta(self, event: dict[str, Any]) -> None:
        turn, ws = self.turn, self.conn.ws
        if turn.drop_after is not None and self.count >= turn.drop_after:
            await ws.drain()
            ws.drop()
            raise _Stop
        if turn.close_after is not None and self.count >= turn.close_after:
            await ws.close(turn.close_code, "scripted close")
            raise _Stop
        self.conn.send(event)
        self.count += 1
        if turn.delay:
            await ws.drain()
            await asyncio.sleep(turn.delay)
        elif self.count % 256 == 0:
            await ws.drain()

    def _pieces(self, text: str) -> list[str]:
        words = text.split(" ")
        pieces = [w + " " for w in words[:-1]] + [words[-1]]
        if self.turn.deltas is not None:
            pieces = [pieces[i % len(pieces)] for i in range(self.turn.deltas)]
        return pieces

    def _item_events(self, rid: str, item: dict[str, Any], added: bool) -> None:
        kind = "response.output_item.added" if added else "response.output_item.done"
        self.conn.send(
            {
                "type": kind,
                "event_id": _id("event"),
                "response_id": rid,
                "output_index": 0,
                "item": item,
            }
        )

    async def text(self, rid: str, text: str, turn: RealtimeTurn) -> dict[str, Any]:
        item_id = _id("item")
        item: dict[str, Any] = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "object": "realtime.item",
            "status": "in_progress",
            "content": [],
        }
        self._item_events(rid, item, True)
        where = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
        pieces = self._pieces(text)
        # Pre-encoded around the delta: 20,000 deltas must leave the server faster than a
        # client reads them, or the benchmark measures json.dumps.
        head = _dumps({"type": "response.output_text.delta", **where})[:-1] + b',"event_id":"'
        for n, piece in enumerate(pieces):
            await self._raw_delta(
                head + f'ev{n}","delta":'.encode() + json.dumps(piece).encode() + b"}"
            )
        self.text_tokens = len(text.split()) if self.turn.deltas is None else len(pieces)
        full = "".join(pieces)
        self.conn.send(
            {"type": "response.output_text.done", "event_id": _id("event"), **where, "text": full}
        )
        item = {**item, "status": "completed", "content": [{"type": "output_text", "text": full}]}
        self._item_events(rid, item, False)
        return item

    async def _raw_delta(self, data: bytes) -> None:
        turn, ws = self.turn, self.conn.ws
        if turn.drop_after is not None or turn.close_after is not None or turn.delay:
            await self._delta(json.loads(data))
            return
        ws.send_text(data)
        self.count += 1
        if self.count % 256 == 0:
            await ws.drain()

    async def audio(self, rid: str, text: str, turn: RealtimeTurn) -> dict[str, Any]:
        item_id = _id("item")
        item: dict[str, Any] = {
            "id": item_id,
            "type": "message",
            "role": "assistant",
            "object": "realtime.item",
            "status": "in_progress",
            "content": [],
        }
        self._item_events(rid, item, True)
        where = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
        pieces = self._pieces(text)
        ms = turn.audio_ms if turn.audio_ms is not None else 40 * len(pieces)
        pcm = tone_pcm16(ms)
        step = 48 * turn.audio_chunk_ms
        chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
        for n in range(max(len(chunks), len(pieces))):
            if n < len(pieces):
                await self._delta(
                    {
                        "type": "response.output_audio_transcript.delta",
                        "event_id": _id("event"),
                        **where,
                        "delta": pieces[n],
                    }
                )
            if n < len(chunks):
                await self._delta(
                    {
                        "type": "response.output_audio.delta",
                        "event_id": _id("event"),
                        **where,
                        "delta": base64.b64encode(chunks[n]).decode(),
                    }
                )
        self.text_tokens = len(pieces)
        self.audio_tokens = ms // 50
        full = "".join(pieces)
        self.conn.send({"type": "response.output_audio.done", "event_id": _id("event"), **where})
        self.conn.send(
            {
                "type": "response.output_audio_transcript.done",
                "event_id": _id("event"),
                **where,
                "transcript": full,
            }
        )
        content = [{"type": "output_audio", "transcript": full}]
        item = {**item, "status": "completed", "content": content}
        self._item_events(rid, item, False)
        return item

    async def tool_call(self, rid: str, call: RealtimeToolCall) -> dict[str, Any]:
        item_id = _id("item")
        call_id = call.call_id or _id("call")
        arguments = (
            call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        )
        item = {
            "id": item_id,
            "type": "function_call",
            "object": "realtime.item",
            "status": "in_progress",
            "name": call.name,
            "call_id": call_id,
            "arguments": "",
        }
        self._item_events(rid, item, True)
        where = {"response_id": rid, "item_id": item_id, "output_index": 0, "call_id": call_id}
        for start in range(0, len(arguments), 8):
            await self._delta(
                {
                    "type": "response.function_call_arguments.delta",
                    "event_id": _id("event"),
                    **where,
                    "delta": arguments[start : start + 8],
                }
            )
        self.conn.send(
            {
                "type": "response.function_call_arguments.done",
                "event_id": _id("event"),
                **where,
                "name": call.name,
                "arguments": arguments,
            }
        )
        self.text_tokens += max(1, len(arguments) // 4)
        item = {**item, "status": "completed", "arguments": arguments}
        self._item_events(rid, item, False)
        return item


def _loggable(event: dict[str, Any]) -> dict[str, Any]:
    # Audio payloads are logged by size: a test asserts on event types, not on megabytes.
    if event.get("type") == "input_audio_buffer.append":
        return {**event, "audio": len(base64.b64decode(event.get("audio", "")))}
    return event
