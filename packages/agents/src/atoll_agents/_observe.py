"""A run's events for the agent's callbacks: tool calls, messages, and fallbacks between models.

The model calls emit their own events (``RequestStarted`` ... ``RequestFinished``) through the
same callbacks, passed to each call with the run id stamped on them. This adds what only the
agent knows: ``ToolCalled`` and ``ToolFinished`` around each tool call, ``MessageAdded`` for
each message of the conversation (through ``Conversation.on_message``), and ``FallbackUsed``
when the agent moves to its next model. Content appears only when the agent's ``Redactor``
captures it. A run without callbacks makes none of this (``RunObserver.of`` returns None).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from atoll_dialects import (
    Callbacks,
    ChatStream,
    FallbackUsed,
    MessageAdded,
    Redactor,
    ToolCalled,
    ToolFinished,
)
from atoll_wire import Message, TextPart, ToolCallPart

from ._conversation import Conversation

if TYPE_CHECKING:
    from ._agent import Agent
    from ._result import ToolCallRecord


def _split(label: str) -> tuple[str, str]:
    provider, _, model = label.partition("/")
    return (model, provider) if model else (label, "")


class RunObserver:
    """Turns one run's steps into events (see the module docstring).

    Attributes:
        callbacks: The agent's callbacks, stamping this run's id (pass them to model calls).
    """

    __slots__ = ("_call_id", "_conversation", "_model", "_provider", "_redactor", "callbacks")

    def __init__(self, callbacks: Callbacks, redactor: Redactor, first_label: str) -> None:
        self.callbacks = callbacks
        self._redactor = redactor
        self._call_id = ""
        self._model, self._provider = _split(first_label)
        self._conversation: Conversation | None = None

    @classmethod
    def of(cls, agent: Agent[Any], run_id: str) -> RunObserver | None:
        """The observer of a run of ``agent``, or None when the agent has no callbacks."""
        if agent.callbacks is None:
            return None
        return cls(agent.callbacks.for_run(run_id), agent.redactor, agent.slots[0].label)

    def _common(self) -> dict[str, Any]:
        return {
            "call_id": self._call_id,
            "model": self._model,
            "provider": self._provider,
            "time": time.time(),
            "run_id": self.callbacks.run_id,
        }

    def attach(self, conversation: Conversation, announced: int) -> Callable[[], None]:
        """Follow ``conversation``: announce its messages from ``announced`` on, then new ones.

        Raises:
            InvalidOptionError: Async callbacks whose tasks are not running.

        Returns:
            A function that stops following it.
        """
        self.callbacks.check_ready()
        self._conversation = conversation
        for message, producer in zip(
            conversation.messages[announced:], conversation.producers[announced:], strict=True
        ):
            self._added(message, producer, announced)
            announced += 1
        return conversation.on_message(self._listener)

    def _listener(self, message: Message, producer: str | None) -> None:
        conversation = self._conversation
        index = len(conversation) - 1 if conversation is not None else 0
        self._added(message, producer, index)

    def _added(self, message: Message, producer: str | None, index: int) -> None:
        self.callbacks.emit(
            MessageAdded(
                **self._common(),
                index=index,
                role=message.role,
                producer=producer,
                message=self._redactor.content(message, Message),
            )
        )

    def model_call(self, stream: ChatStream) -> None:
        """A model call answered: later tool calls and messages belong to it."""
        self._call_id = stream.call_id or ""
        target = stream.target
        self._model, self._provider = target.request_model, target.provider.name

    def fallback(self, failed: ChatStream, to_label: str, error: BaseException) -> None:
        """The agent leaves a model that failed before answering for its next one."""
        status = getattr(error, "status", None)
        model, provider = _split(to_label)
        self.callbacks.emit(
            FallbackUsed(
                call_id=failed.call_id or "",
                model=model,
                provider=provider,
                time=time.time(),
                run_id=self.callbacks.run_id,
                from_model=failed.target.label,
                to_model=to_label,
                reason=type(error).__name__ + (f" {status}" if status is not None else ""),
                message=self._redactor.error_text(error),
            )
        )

    def tool_called(self, call: ToolCallPart, turn: int) -> None:
        """A tool call is about to run."""
        self.callbacks.emit(
            ToolCalled(
                **self._common(),
                tool=call.name,
                tool_call_id=call.id,
                turn=turn,
                arguments=self._redactor.content_text(call.raw_arguments),
            )
        )

    def tool_finished(self, record: ToolCallRecord) -> None:
        """A tool call has its result."""
        result = record.result
        text = None
        if result is not None and self._redactor.capture_content:
            text = "".join(p.text for p in result.content if type(p) is TextPart)
        self.callbacks.emit(
            ToolFinished(
                **self._common(),
                tool=record.name,
                tool_call_id=record.id,
                turn=record.turn,
                duration=record.duration,
                is_error=record.is_error,
                error=record.error,
                result=self._redactor.content_text(text),
            )
        )
