"""Scripted models: turns, tool calls, match rules, and the built-in ``echo`` and ``stream-N``.

A model is any callable ``(ChatInput) -> Turn``. :class:`Script` is the usual one: a queue of
turns served in order, plus rules that answer specific requests (checked first).
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from ._exceptions import ScriptError
from ._faults import Fault
from ._inputs import ChatInput

_WORDS = re.compile(r"\s*\S+\s*|\s+")


class ToolCall(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A tool call the model makes.

    Attributes:
        name: The tool's name.
        arguments: A JSON object, or a string sent verbatim (so invalid JSON can be tested).
        id: The call id; generated (``call_...`` / ``toolu_...``) when None.
    """

    name: str
    arguments: dict[str, Any] | str = {}
    id: str | None = None

    def raw_arguments(self) -> str:
        """The argument text as it goes on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return msgspec.json.encode(self.arguments).decode()


class Turn(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """One assistant reply, rendered in whichever dialect the request used.

    Attributes:
        text: Assistant text (None for none).
        tool_calls: Tool calls, in order (parallel when more than one).
        thinking: Reasoning text (Anthropic ``thinking`` block, OpenAI ``reasoning_content``).
        signature: Anthropic thinking signature (generated when thinking is set and this is None).
        finish_reason: Neutral (``stop``, ``length``, ``tool_calls``, ``content_filter``) or a
            raw provider value passed through; default ``tool_calls`` when there are tool calls,
            else ``stop``.
        input_tokens: Usage override; default counts whitespace tokens of the request.
        output_tokens: Usage override; default counts whitespace tokens of the reply.
        reasoning_tokens: Reasoning tokens (a subset of output tokens).
        cache_read_tokens: Cache-read input tokens (a subset of input tokens).
        cache_write_tokens: Cache-write input tokens (a subset of input tokens).
        chunks: Exact text deltas for streaming (default: one per whitespace token).
        fault: A fault in ``x-atoll-fault`` syntax applied to this turn's response.
    """

    text: str | None = None
    tool_calls: list[ToolCall] = []
    thinking: str | None = None
    signature: str | None = None
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    chunks: list[str] | None = None
    fault: str | None = None

    def __post_init__(self) -> None:
        if self.fault is not None:
            Fault.parse(self.fault)  # fail at construction, not mid-test
        if self.chunks is not None and self.text is not None and "".join(self.chunks) != self.text:
            raise ScriptError("<code>", "Turn.chunks must join to Turn.text")

    def text_chunks(self) -> list[str]:
        """The text deltas a stream sends."""
        if self.chunks is not None:
            return self.chunks
        return _WORDS.findall(self.text) if self.text else []

    def full_text(self) -> str:
        """The whole text ("" when none)."""
        if self.text is not None:
            return self.text
        return "".join(self.chunks) if self.chunks is not None else ""


ModelFn = Callable[[ChatInput], Turn]


class _When(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    tool_result_for: str | None = None
    user_contains: str | None = None


class Rule:
    """Answer requests that match with a given turn, before the script's queue is used.

    Args:
        then: The turn to answer with.
        tool_result_for: Match when a tool result for this tool name or call id arrived
            (after the last assistant message).
        user_contains: Match when the last user text contains this string.
        when: Match with any predicate on the request.
        times: How many times the rule may fire (None: unlimited).

    All given conditions must hold.
    """

    def __init__(
        self,
        then: Turn,
        *,
        tool_result_for: str | None = None,
        user_contains: str | None = None,
        when: Callable[[ChatInput], bool] | None = None,
        times: int | None = None,
    ) -> None:
        self.then = then
        self.tool_result_for = tool_result_for
        self.user_contains = user_contains
        self.when = when
        self.times = times
        self.fired = 0

    def matches(self, request: ChatInput) -> bool:
        """Whether this rule answers the request."""
        if self.times is not None and self.fired >= self.times:
            return False
        if self.tool_result_for is not None:
            wanted = self.tool_result_for
            if not any(wanted in (r.name, r.call_id) for r in request.tool_results):
                return False
        if self.user_contains is not None and self.user_contains not in request.last_user_text:
            return False
        return self.when is None or self.when(request)

    def __repr__(self) -> str:
        return (
            f"Rule(tool_result_for={self.tool_result_for!r}, "
            f"user_contains={self.user_contains!r}, fired={self.fired})"
        )


class _RuleFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    then: Turn
    when: _When = msgspec.field(default_factory=_When)
    times: int | None = None


class _ScriptFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    turns: list[Turn] = []
    rules: list[_RuleFile] = []
    repeat_last: bool = False


class Script:
    """A scripted model: rules first, then a queue of turns served in order.

    Args:
        turns: Turns (a plain string is a text turn).
        rules: Rules checked before the queue; a matching rule does not use up a turn.
        repeat_last: Keep serving the last turn once the queue is empty (default: an
            exhausted script answers HTTP 500 naming the model, so a test sees the overrun).

    Example:
        >>> Script([Turn(tool_calls=[ToolCall(name="add", arguments={"a": 1})]), "done"])
        Script(remaining=2, served=0)
    """

    def __init__(
        self,
        turns: Iterable[Turn | str] = (),
        *,
        rules: Iterable[Rule] = (),
        repeat_last: bool = False,
    ) -> None:
        self._turns: deque[Turn] = deque(_turn(t) for t in turns)
        self.rules = list(rules)
        self.repeat_last = repeat_last
        self.served = 0
        self._last: Turn | None = None

    @classmethod
    def from_json(cls, data: bytes | str, *, source: str = "<json>") -> Script:
        """Build a script from JSON text: ``{"turns": [...], "rules": [...]}``.

        Raises:
            ScriptError: The JSON does not describe a script.
        """
        try:
            spec = msgspec.json.decode(data, type=_ScriptFile)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise ScriptError(source, str(exc)) from None
        except Exception as exc:  # Turn.__post_init__ errors surface wrapped by msgspec
            raise ScriptError(source, str(exc)) from None
        rules = [
            Rule(
                r.then,
                tool_result_for=r.when.tool_result_for,
                user_contains=r.when.user_contains,
                times=r.times,
            )
            for r in spec.rules
        ]
        return cls(spec.turns, rules=rules, repeat_last=spec.repeat_last)

    @classmethod
    def from_file(cls, path: str | Path) -> Script:
        """Load a script from a JSON file (see :meth:`from_json`)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ScriptError(str(path), f"cannot read: {exc.strerror}") from None
        return cls.from_json(data, source=str(path))

    def push(self, *turns: Turn | str) -> None:
        """Append turns to the queue (safe while the server runs)."""
        self._turns.extend(_turn(t) for t in turns)

    @property
    def remaining(self) -> int:
        """Turns left in the queue."""
        return len(self._turns)

    def __call__(self, request: ChatInput) -> Turn:
        """Answer one request.

        Raises:
            ScriptError: No rule matched and the queue is empty.
        """
        for rule in self.rules:
            if rule.matches(request):
                rule.fired += 1
                self.served += 1
                return rule.then
        if self._turns:
            self._last = self._turns.popleft()
        elif not (self.repeat_last and self._last is not None):
            raise ScriptError(
                f"for model {request.model!r}", f"no turn left after {self.served} served"
            )
        self.served += 1
        assert self._last is not None
        return self._last

    def __repr__(self) -> str:
        return f"Script(remaining={self.remaining}, served={self.served})"


def _turn(value: Turn | str) -> Turn:
    return Turn(text=value) if isinstance(value, str) else value


def echo(request: ChatInput) -> Turn:
    """The ``echo`` model: replies with the last user text."""
    return Turn(text=request.last_user_text)


@functools.lru_cache(maxsize=16)  # benchmarks ask for the same stream-N again and again
def stream_model(count: int) -> ModelFn:
    """The ``stream-N`` model: N text deltas ``"tok0 "``, ``"tok1 "``, ...."""
    chunks = [f"tok{i} " for i in range(count)]
    turn = Turn(text="".join(chunks), chunks=chunks, output_tokens=count)

    def model(request: ChatInput) -> Turn:
        return turn

    return model
