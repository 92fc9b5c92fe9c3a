"""One run of an agent, start to end: the loop.

A run alternates model calls and tool calls until the model gives a final answer (a complete
response with no tool calls, or a valid ``final_result`` call) or something stops it:

1. Before each model call, the budget reserves the call's worst case (``_limits``); the call
   goes to the first model, then to the next on a failure before its first event.
2. The whole response is read (streamed); the assistant turn is recorded, with the model that
   wrote it, and its usage and cost are added up.
3. Without tool calls the run ends, after the reply passes the output type (or is sent back
   for repair). With tool calls: loop detection, the ``max_tool_calls`` budget, deferred
   approval; then every call runs (concurrently unless a sequential tool is among them), and
   the results go back in the model's order, one tool message per turn.

``Agent.run`` awaits ``drive()`` directly; ``Agent.run_stream`` runs the same ``drive()`` in a
task and hands its events to the consumer. Cancelling either stops the model stream and every
running tool; the conversation is then sealed: every call gets a result (a cancelled one says
so), so ``run.messages`` is valid and the run can be continued.

This module is longer than the house median on purpose: the issue asks that a reader follow one
run in one module, so every step of the loop stays here; the parts that are not the loop (limits,
output modes, models, state, spans, the conversation) live in their own modules.
"""

from __future__ import annotations

import inspect
import math
import time
import uuid
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, cast

import anyio
import msgspec
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from atoll_dialects import ChatStream, ClientResponse
from atoll_tools import (
    ApprovalDecision,
    ApprovalRequest,
    JSONValue,
    ToolArgumentsError,
    ToolDeniedError,
    ToolExecutionError,
    ToolTimeoutError,
    UnknownToolError,
    ValidationIssue,
)
from atoll_tools import OutputValidationError as ToolsOutputError
from atoll_wire import (
    Message,
    TextDelta,
    TextPart,
    ThinkingPart,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    ToolResultPart,
)
from opentelemetry import trace

from ._context import CURRENT, RunContext
from ._conversation import Conversation
from ._events import (
    AgentEvent,
    ApprovalDecided,
    ApprovalRequested,
    PartialOutput,
    RepairRequested,
    ToolCallFinished,
    ToolCallStarted,
    TurnFinished,
)
from ._exceptions import AgentsError, OutputValidationError, UsageLimitExceeded
from ._limits import Overrun, check_model_call, check_tool_calls
from ._models import ModelSlot, may_fall_back, messages_for
from ._observe import RunObserver
from ._output import FINAL_TOOL
from ._result import AgentResult, OutputT, PendingCall, StopReason, Tally, ToolCallRecord
from ._state import Deferred, RunState
from ._telemetry import end_agent_span, end_tool_span, start_agent_span, start_tool_span

if TYPE_CHECKING:
    from ._agent import Agent

_CALL_ERRORS = (ToolDeniedError, ToolTimeoutError, ToolExecutionError)
_FINISH_STOPS: dict[str | None, StopReason] = {
    "length": "length",
    "content_filter": "content_filter",
}
_json = msgspec.json.Encoder()


class _End:
    """Marks the end of a streamed run's events."""


_END = _End()


class AgentRun(Generic[OutputT]):
    """One run; as returned by ``Agent.run_stream``, the stream of its events.

    Use it as ``async with agent.run_stream(prompt) as run: async for event in run: ...``,
    then read ``run.result``. Leaving the block early, or cancelling the task, stops the run:
    ``run.messages`` stays a valid conversation (every tool call has a result).

    Attributes:
        run_id: The run's id.
        agent_name: The agent's name.
        deps: What was passed as ``deps=``.
        tally: Usage and cost so far.
        conversation: The conversation so far.
    """

    def __init__(
        self,
        agent: Agent[Any],
        prompt: str | Message | Sequence[Message] | None,
        *,
        history: Conversation | Sequence[Message] | None,
        deps: Any,
        state: RunState | None = None,
        decisions: dict[str, ApprovalDecision] | None = None,
    ) -> None:
        self._agent = agent
        self.agent_name = agent.name
        self.deps = deps
        self._records: list[ToolCallRecord] = []
        self._responses: list[ClientResponse] = []
        self._argument_failures: dict[str, int] = {}
        self._output_replies: list[str] = []
        self._recent: list[str] = []
        self._result: AgentResult[Any] | None = None
        self._emit: Callable[[AgentEvent], None] | None = None
        self._open_calls: list[ToolCallPart] | None = None
        self._open_results: dict[str, ToolResultPart] = {}
        self._open_records: dict[str, ToolCallRecord] = {}
        self._resume: tuple[RunState, dict[str, ApprovalDecision]] | None = None
        self._measured: tuple[int, int] | None = None  # (conversation length, tokens) at a call
        self._partial: JSONValue = None
        if state is not None:
            self._restore(state, decisions or {})
        else:
            self.run_id = uuid.uuid4().hex
            self.tally = Tally()
            if isinstance(history, Conversation):
                self.conversation = history.fork()
            else:
                self.conversation = Conversation(history or ())
            self._new_from = len(self.conversation)
            for message in _prompt_messages(prompt):
                self.conversation.add(message)
        # Events for the agent's callbacks (None without any): messages from here on are new.
        self._observer = RunObserver.of(agent, self.run_id)
        self._announced = self._new_from if state is None else len(self.conversation)
        # Set by __aenter__ when events are streamed to a consumer.
        self._group: TaskGroup | None = None
        self._send: MemoryObjectSendStream[AgentEvent | _End] | None = None
        self._receive: MemoryObjectReceiveStream[AgentEvent | _End] | None = None
        self._error: BaseException | None = None
        self._drained: anyio.Event | None = None

    def _restore(self, state: RunState, decisions: dict[str, ApprovalDecision]) -> None:
        self.run_id = state.run_id
        self.tally = state.tally()
        self.conversation = Conversation.from_dict(state.conversation)
        self._new_from = state.new_from
        self._records = list(state.records)
        self._argument_failures = dict(state.argument_failures)
        self._output_replies = list(state.output_replies)
        self._recent = list(state.recent_calls)
        self._resume = (state, decisions)

    # ------------------------------------------------------------------ what callers read
    @property
    def messages(self) -> list[Message]:
        """The conversation so far: valid (every call answered) once the run ended or stopped."""
        return self.conversation.messages

    @property
    def result(self) -> AgentResult[OutputT]:
        """The run's result, once it ended (also after a cancel: ``stop_reason="cancelled"``).

        Raises:
            RuntimeError: The run has not ended yet.
        """
        if self._result is None:
            raise RuntimeError("the run has not finished: iterate it to the end first")
        return self._result

    @property
    def partial_output(self) -> JSONValue:
        """The structured output received so far in the current reply (unvalidated)."""
        return self._partial

    # ------------------------------------------------------------------ streaming plumbing
    async def __aenter__(self) -> Self:
        send, receive = anyio.create_memory_object_stream[AgentEvent | _End](math.inf)
        self._send, self._receive = send, receive
        self._emit = self._put
        group = anyio.create_task_group()
        await group.__aenter__()
        self._group = group
        group.start_soon(self._drive_streamed)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        group = self._group
        assert group is not None and self._receive is not None
        # Leaving the block stops a run that is still going (a consumer that broke off).
        group.cancel_scope.cancel()
        try:
            return await group.__aexit__(exc_type, exc, tb)
        finally:
            self._receive.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AgentEvent:
        receive = self._receive
        if receive is None:
            raise RuntimeError("iterate a run inside `async with agent.run_stream(...) as run`")
        try:
            item = await receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        drained = self._drained
        if drained is not None and not receive.statistics().current_buffer_used:
            drained.set()
        if isinstance(item, _End):
            receive.close()
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            raise StopAsyncIteration
        return item

    def _put(self, event: AgentEvent) -> None:
        send = self._send
        if send is not None:
            try:
                send.send_nowait(event)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._send = None  # the consumer left; the run goes on until cancelled

    async def _consumed(self) -> None:
        """Wait until the consumer has taken every event so far (backpressure between steps).

        Events are queued without waiting, so the model stream and the tools never wait for
        the consumer; the next step does, so a consumer that stops listening stops the run.
        """
        send = self._send
        while send is not None and send.statistics().current_buffer_used:
            self._drained = anyio.Event()
            await self._drained.wait()
            send = self._send

    async def _drive_streamed(self) -> None:
        try:
            await self.drive()
        except Exception as exc:
            self._error = exc  # raised to the consumer by __anext__, not as an ExceptionGroup
        finally:
            if self._send is not None:
                self._send.send_nowait(_END)
                self._send.close()

    # ------------------------------------------------------------------ the run
    async def drive(self) -> None:
        """Run to the end (used directly by ``Agent.run``; in a task by ``run_stream``)."""
        agent = self._agent
        observer = self._observer
        stop = None if observer is None else observer.attach(self.conversation, self._announced)
        span = start_agent_span(agent.tracer, agent.name, self.run_id)
        error: BaseException | None = None
        try:
            if span.is_recording():  # without an SDK, skip the context switch: nothing nests
                with trace.use_span(span, end_on_exit=False):
                    await self._steps()
            else:
                await self._steps()
        except BaseException as exc:
            error = exc
            self._seal(exc)
            raise
        finally:
            end_agent_span(span, self._summary(), error)
            if stop is not None:
                stop()

    async def _steps(self) -> None:
        if self._resume is not None and await self._resume_pending():
            return
        while True:
            response, slot = await self._model_turn()
            if await self._after_turn(response, slot):
                return

    # ------------------------------------------------------------------ model calls
    async def _model_turn(self) -> tuple[ClientResponse, ModelSlot]:
        """One model call, falling back to the next model on a failure before any event."""
        agent = self._agent
        slots = agent.slots
        if self._send is not None:
            await self._consumed()
        observer = self._observer
        callbacks = None if observer is None else observer.callbacks
        for index, slot in enumerate(slots):
            convo = self.conversation
            messages = messages_for(convo._messages, convo._producers, slot.label)  # pyright: ignore[reportPrivateUsage]
            if agent.history_processor is not None:
                processed = agent.history_processor(messages)
                messages = list(await processed if inspect.isawaitable(processed) else processed)
            options = agent.call_options[index]
            if agent.limits is not None:
                self._check_budget(slot, messages, options)
            template = agent.call_templates[index]
            if template is not None:
                request, system, timeout = template
                sent = [system, *messages] if system is not None else messages
                request = msgspec.structs.replace(request, messages=sent)
                stream = slot.client.stream(request, timeout=timeout, callbacks=callbacks)
            else:
                stream = slot.client.stream(messages, callbacks=callbacks, **options)
            try:
                await stream.__aenter__()
            except Exception as exc:
                if index + 1 < len(slots) and may_fall_back(exc):
                    if observer is not None:
                        observer.fallback(stream, slots[index + 1].label, exc)
                    continue
                raise
            if observer is not None:
                observer.model_call(stream)
            try:
                await self._read(stream, slot)
            except BaseException as exc:
                await stream.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            await stream.__aexit__(None, None, None)
            return stream.response, slot
        raise AssertionError("unreachable: the last model re-raises")  # pragma: no cover

    async def _read(self, stream: ChatStream, slot: ModelSlot) -> None:
        emit = self._emit
        if emit is None:
            async for _ in stream:
                pass
            return
        output = self._agent.output
        if output is None:
            async for event in stream:
                emit(event)
            return
        # Streaming with an output type: show the value as it arrives.
        tool_mode = slot.output_mode == "tool"
        final_index: int | None = None
        text: list[str] = []
        self._partial = None
        async for event in stream:
            emit(event)
            if type(event) is ToolCallStart and tool_mode and event.name == FINAL_TOOL:
                final_index = event.index
            elif (type(event) is ToolCallDelta and event.index == final_index) or (
                type(event) is TextDelta and not tool_mode
            ):
                text.append(event.arguments if type(event) is ToolCallDelta else event.text)  # type: ignore[union-attr]
                value = output.partial("".join(text))
                if value is not None and value != self._partial:
                    self._partial = value
                    emit(PartialOutput(value))

    def _check_budget(
        self, slot: ModelSlot, messages: list[Message], options: dict[str, Any]
    ) -> None:
        limits = self._agent.limits
        assert limits is not None
        estimate = self._input_estimate(messages, options) if limits.bounds_input else 0
        ceiling = int(options.get("max_tokens") or 0)
        worst = slot.worst_cost(estimate, ceiling) if limits.max_cost is not None else None
        overrun = check_model_call(
            limits, self.tally, input_estimate=estimate, output_ceiling=ceiling, worst_cost=worst
        )
        if overrun is not None:
            raise self._limit_error(overrun)

    def _input_estimate(self, messages: list[Message], options: dict[str, Any]) -> int:
        """Input tokens of the next call, never low: known counts plus one token per byte."""
        measured = self._measured
        if measured is not None:
            since, tokens = measured
            # Messages appended since the last call; the reply itself is in its output count.
            added = self.conversation.messages[since + 1 :]
            return tokens + sum(len(_json.encode(message)) for message in added)
        size = sum(len(_json.encode(m)) for m in messages)
        size += len(str(options.get("system") or "").encode())
        tools = options.get("tools")
        if tools:
            size += len(_json.encode(tools))
        return size

    # ------------------------------------------------------------------ after a model call
    async def _after_turn(self, response: ClientResponse, slot: ModelSlot) -> bool:
        message = response.message
        if response.incomplete:
            # A signature cut short by an interrupted stream must never be sent back.
            message = _without_signatures(message)
        self.conversation.add(message, response.served_by or slot.label)
        self._responses.append(response)
        tally = self.tally
        tally.turns += 1
        tally.add_response(response)
        usage = response.usage
        if usage.input_tokens is not None and usage.output_tokens is not None:
            self._measured = (len(self.conversation) - 1, usage.input_tokens + usage.output_tokens)
        else:
            self._measured = None
        if self._emit is not None:
            cost = response.cost
            self._emit(
                TurnFinished(
                    tally.turns,
                    response,
                    usage,
                    None if cost is None else cost.total,
                    response.cost_note,
                )
            )
        calls = message.tool_calls
        tool_mode = self._agent.output is not None and slot.output_mode == "tool"
        if tool_mode and any(c.name == FINAL_TOOL for c in calls):
            return await self._final_by_tool(calls)
        if not calls:
            return self._final_by_text(response, tool_mode)
        return await self._tool_phase(calls)

    def _final_by_text(self, response: ClientResponse, tool_mode: bool) -> bool:
        output = self._agent.output
        text = response.message.text
        stop = _FINISH_STOPS.get(response.finish_reason)
        if response.incomplete and stop is None:
            stop = "incomplete"
        if output is None:
            self._finish(text, stop or "completed")
            return True
        if tool_mode:
            error = ToolsOutputError(
                output.spec.name, [ValidationIssue("", "the reply did not call the tool")], text
            )
            repair = (
                f"Call the {FINAL_TOOL} tool with your answer: a plain text reply is not accepted."
            )
            self._output_failed(error, text, repair)
            self.conversation.add(Message.user(repair))
            return False
        try:
            value = output.parse(text)
        except ToolsOutputError as exc:
            self._output_failed(exc, text, exc.repair_message)
            self.conversation.add(Message.user(exc.repair_message))
            return False
        self._finish(value, stop or "completed")
        return True

    async def _final_by_tool(self, calls: list[ToolCallPart]) -> bool:
        output = self._agent.output
        assert output is not None
        final = next(c for c in calls if c.name == FINAL_TOOL)
        raw = final.raw_arguments or _json.encode(final.arguments).decode()
        premade: dict[str, ToolResultPart] = {}
        for call in calls:
            if call.name == FINAL_TOOL and call is not final:
                premade[call.id] = _text_result(call, "Only the first final answer is read.")
        try:
            value = output.parse(raw)
        except ToolsOutputError as exc:
            self._open_calls = calls
            self._open_results = {final.id: _text_result(final, exc.repair_message, error=True)}
            self._output_failed(exc, raw, exc.repair_message, call=final)
            return await self._tool_phase(calls, premade | self._open_results)
        for call in calls:
            if call.name == FINAL_TOOL:
                premade.setdefault(call.id, _text_result(call, "Final answer received."))
            else:
                premade[call.id] = _text_result(
                    call, "Not run: the final answer was given in the same turn.", error=True
                )
        self._answer(calls, premade)
        self._finish(value, "completed")
        return True

    def _output_failed(
        self,
        error: ToolsOutputError,
        reply: str,
        repair: str,
        *,
        call: ToolCallPart | None = None,
    ) -> None:
        """Count a reply that failed the output type; raise once no repair is left."""
        self._output_replies.append(reply)
        left = self._agent.output_retries - len(self._output_replies) + 1
        if left <= 0:
            if call is not None and self._open_calls is not None:
                self._seal(None)
            result = self._build(None, "output_invalid")
            raise OutputValidationError(error, self._output_replies, result)
        if self._emit is not None:
            self._emit(RepairRequested("output", repair, left - 1, call))

    # ------------------------------------------------------------------ tool calls
    async def _tool_phase(
        self, calls: list[ToolCallPart], premade: dict[str, ToolResultPart] | None = None
    ) -> bool:
        agent = self._agent
        premade = premade or {}
        todo = [c for c in calls if c.id not in premade]
        self._open_calls = calls
        self._open_results = dict(premade)
        if self._loop_detected(todo):
            for call in todo:
                self._open_results[call.id] = _text_result(
                    call,
                    f"Not run: {call.name!r} was called with the same arguments "
                    f"{agent.max_repeats} times in a row.",
                    error=True,
                )
                self._records.append(_record(call, self.tally.turns, error="not_run"))
            self._answer(calls, self._open_results)
            self._finish(None, "loop_detected")
            return True
        if agent.limits is not None:
            overrun = check_tool_calls(agent.limits, self.tally, len(todo))
            if overrun is not None:
                raise self._limit_error(overrun)
        self.tally.tool_calls += len(todo)
        records = [_record(c, self.tally.turns) for c in todo]
        self._open_records = {r.id: r for r in records}
        self._records.extend(records)
        if isinstance(agent.approval, Deferred):
            pending = self._needs_approval(todo)
            if pending:
                return await self._defer(calls, todo, pending)
        await self._execute(todo)
        self._answer(calls, self._open_results)
        return False

    def _loop_detected(self, calls: list[ToolCallPart]) -> bool:
        repeats = self._agent.max_repeats
        recent = self._recent
        for call in calls:
            recent.append(f"{call.name}\x00{call.raw_arguments or _json.encode(call.arguments)!r}")
        del recent[:-repeats]
        return len(recent) >= repeats and len(set(recent)) == 1

    async def _execute(self, calls: list[ToolCallPart]) -> None:
        agent = self._agent
        if self._send is not None:
            await self._consumed()
        if len(calls) == 1 or any(c.name in agent.sequential for c in calls):
            for call in calls:
                await self._one(call)
            return
        limiter = anyio.CapacityLimiter(agent.max_tool_concurrency)

        async def limited(call: ToolCallPart) -> None:
            async with limiter:
                await self._one(call)

        async with anyio.create_task_group() as group:
            for call in calls:
                group.start_soon(limited, call)

    async def _one(self, call: ToolCallPart, decision: ApprovalDecision | None = None) -> None:
        """Run one call: events, span, approval, typed failures into results, the record."""
        agent = self._agent
        record = self._open_records[call.id]
        turn = record.turn
        if self._emit is not None:
            self._emit(ToolCallStarted(call, turn))
        if self._observer is not None:
            self._observer.tool_called(call, turn)
        capture = agent.capture_content
        span = start_tool_span(
            agent.tracer, call.name, call.id, call.raw_arguments if capture else None
        )
        token = CURRENT.set(RunContext(self, tool_name=call.name, tool_call_id=call.id, turn=turn))
        started = time.perf_counter()
        try:
            if span.is_recording():
                with trace.use_span(span, end_on_exit=False):
                    result = await self._call_tool(call, record, decision)
            else:
                result = await self._call_tool(call, record, decision)
        finally:
            CURRENT.reset(token)
            record.duration = time.perf_counter() - started
        result = _truncated(result, agent.max_tool_output)
        record.result = result
        record.is_error = result.is_error
        self._open_results[call.id] = result
        end_tool_span(span, record, capture_content=capture)
        if self._emit is not None:
            self._emit(ToolCallFinished(record))
        if self._observer is not None:
            self._observer.tool_finished(record)

    async def _call_tool(
        self, call: ToolCallPart, record: ToolCallRecord, decision: ApprovalDecision | None
    ) -> ToolResultPart:
        agent = self._agent
        failures = self._argument_failures.get(call.name, 0)
        if failures > agent.tool_retries:
            record.error = "ToolArgumentsError"
            return _text_result(
                call,
                f"Tool {call.name!r} refuses further calls in this run: its arguments were "
                f"invalid {failures} times in a row.",
                error=True,
            )
        approve = self._approver(record, decision)
        try:
            result = await agent.toolset.execute(call, raise_errors=True, approval=approve)
        except (ToolArgumentsError, UnknownToolError) as exc:
            record.error = type(exc).__name__
            return self._repair(call, exc)
        except _CALL_ERRORS as exc:
            record.error = type(exc).__name__
            return _text_result(call, exc.repair_message, error=True)
        self._argument_failures.pop(call.name, None)
        return result

    def _repair(
        self, call: ToolCallPart, error: ToolArgumentsError | UnknownToolError
    ) -> ToolResultPart:
        retries = self._agent.tool_retries
        failures = self._argument_failures[call.name] = (
            self._argument_failures.get(call.name, 0) + 1
        )
        left = max(retries - failures + 1, 0)
        if left:
            note = f"You have {left} {'retry' if left == 1 else 'retries'} left for this tool."
        else:
            note = "No retries left: further calls of this tool will be refused in this run."
        message = f"{error.repair_message}\n{note}"
        if self._emit is not None:
            kind = "unknown_tool" if isinstance(error, UnknownToolError) else "arguments"
            self._emit(RepairRequested(kind, message, left, call))
        return _text_result(call, message, error=True)

    def _approver(
        self, record: ToolCallRecord, decided: ApprovalDecision | None
    ) -> Callable[[ApprovalRequest], Any]:
        callback = self._agent.approval
        emit = self._emit

        async def approve(request: ApprovalRequest) -> ApprovalDecision:
            if decided is not None:
                decision = decided
            else:
                if emit is not None:
                    emit(ApprovalRequested(request.call, request.arguments))
                answer: object = cast(object, callback(request))
                if inspect.isawaitable(answer):
                    answer = cast(object, await answer)
                if not isinstance(answer, ApprovalDecision):
                    raise TypeError(
                        f"the approval callback returned {type(answer).__name__}, "
                        "not ApprovalDecision"
                    )
                decision = answer
            record.approval = decision
            if emit is not None:
                emit(ApprovalDecided(request.call, decision))
            return decision

        return approve

    def _answer(self, calls: list[ToolCallPart], results: dict[str, ToolResultPart]) -> None:
        """Send every call's result back in the model's order, as one tool message."""
        self.conversation.add(Message(role="tool", parts=[results[c.id] for c in calls]))
        self._open_calls = None
        self._open_results = {}
        self._open_records = {}

    # ------------------------------------------------------------------ deferred approval
    def _needs_approval(self, calls: list[ToolCallPart]) -> list[PendingCall]:
        pending: list[PendingCall] = []
        for call in calls:
            tool = self._agent.toolset.get(call.name)
            if tool is None or not tool.requires_approval:
                continue
            try:
                arguments = tool.validate(call.raw_arguments or call.arguments, call_id=call.id)
            except ToolArgumentsError:
                continue  # invalid arguments are a repair, not a question for a person
            pending.append(PendingCall(id=call.id, name=call.name, arguments=arguments, call=call))
        return pending

    async def _defer(
        self, calls: list[ToolCallPart], todo: list[ToolCallPart], pending: list[PendingCall]
    ) -> bool:
        waiting = {p.id for p in pending}
        if self._emit is not None:
            for item in pending:
                self._emit(ApprovalRequested(item.call, item.arguments, deferred=True))
        await self._execute([c for c in todo if c.id not in waiting])
        tally = self.tally
        state = RunState(
            run_id=self.run_id,
            agent=self._agent.name,
            conversation=self.conversation.to_dict(),
            new_from=self._new_from,
            turn=tally.turns,
            calls=calls,
            results=dict(self._open_results),
            pending=pending,
            usage=tally.usage,
            cost=None if tally.cost is None else str(tally.cost),
            cost_note=tally.note,
            turns=tally.turns,
            tool_call_count=tally.tool_calls,
            records=self._records,
            argument_failures=self._argument_failures,
            output_replies=self._output_replies,
            recent_calls=self._recent,
        )
        # The turn stays open in the state, not in the conversation: resume answers it.
        self._open_calls = None
        self._finish(None, "approval_required", pending=pending, state=state)
        return True

    async def _resume_pending(self) -> bool:
        """Run the decided calls of the state's open turn, answer it, and go on."""
        assert self._resume is not None
        state, decisions = self._resume
        self._resume = None
        self._open_calls = list(state.calls)
        self._open_results = dict(state.results)
        records = {r.id: r for r in self._records}
        self._open_records = {p.id: records[p.id] for p in state.pending}
        for item in state.pending:
            self._open_records[item.id].approval = decisions[item.id]
        if len(state.pending) == 1 or any(p.name in self._agent.sequential for p in state.pending):
            for item in state.pending:
                await self._one(item.call, decisions[item.id])
        else:
            async with anyio.create_task_group() as group:
                for item in state.pending:
                    group.start_soon(self._one, item.call, decisions[item.id])
        self._answer(state.calls, self._open_results)
        return False

    # ------------------------------------------------------------------ ending
    def _limit_error(self, overrun: Overrun) -> UsageLimitExceeded:
        self._seal(None)
        result = self._build(None, "usage_limit")
        return UsageLimitExceeded(
            overrun.limit, overrun.value, overrun.used, overrun.requested, result
        )

    def _seal(self, error: BaseException | None) -> None:
        """Answer every open call so the conversation stays valid (cancel, error, limit)."""
        calls = self._open_calls
        if calls is not None:
            cancelled = error is not None and isinstance(error, anyio.get_cancelled_exc_class())
            text = (
                "The call was cancelled before it finished."
                if cancelled
                else "The call was not run: the run stopped before it."
            )
            for call in calls:
                if call.id not in self._open_results:
                    self._open_results[call.id] = _text_result(call, text, error=True)
                    record = self._open_records.get(call.id)
                    if record is not None:
                        record.error = "cancelled" if cancelled else "not_run"
                        record.result = self._open_results[call.id]
                        record.is_error = True
            self._answer(calls, self._open_results)
        if error is not None and self._result is None and not isinstance(error, AgentsError):
            stop: StopReason = "cancelled"
            self._result = self._build(None, stop)

    def _finish(
        self,
        output: Any,
        stop: StopReason,
        *,
        pending: list[PendingCall] | None = None,
        state: RunState | None = None,
    ) -> None:
        self._result = self._build(output, stop, pending=pending, state=state)

    def _build(
        self,
        output: Any,
        stop: StopReason,
        *,
        pending: list[PendingCall] | None = None,
        state: RunState | None = None,
    ) -> AgentResult[Any]:
        return AgentResult(
            output=output,
            conversation=self.conversation,
            new_from=self._new_from,
            tally=Tally(
                usage=self.tally.usage,
                cost=self.tally.cost,
                note=self.tally.note,
                turns=self.tally.turns,
                tool_calls=self.tally.tool_calls,
            ),
            tool_calls=list(self._records),
            stop_reason=stop,
            responses=list(self._responses),
            run_id=self.run_id,
            pending=pending,
            state=state,
        )

    def add_child(self, result: AgentResult[Any], agent: str) -> None:
        """Add a sub-agent run's usage and cost to this run's."""
        tally = self.tally
        tally.usage = tally.usage + result.usage
        tally.add_cost(result.cost, f"sub-agent {agent!r}: {result.cost_note}")

    def _summary(self) -> dict[str, Any]:
        usage = self.tally.usage
        result = self._result
        return {
            "gen_ai.usage.input_tokens": usage.input_tokens,
            "gen_ai.usage.output_tokens": usage.output_tokens,
            "atoll.agent.turns": self.tally.turns,
            "atoll.agent.stop_reason": None if result is None else result.stop_reason,
        }


# ---------------------------------------------------------------------- small helpers
def _prompt_messages(prompt: str | Message | Sequence[Message] | None) -> list[Message]:
    if prompt is None:
        return []
    if isinstance(prompt, str):
        return [Message.user(prompt)]
    if isinstance(prompt, Message):
        return [prompt]
    messages = list(prompt)
    for position, item in enumerate(messages):
        if not isinstance(item, Message):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"messages[{position}] is a {type(item).__name__}, not a Message")
    return messages


def _record(call: ToolCallPart, turn: int, *, error: str | None = None) -> ToolCallRecord:
    return ToolCallRecord(
        id=call.id,
        name=call.name,
        raw_arguments=call.raw_arguments,
        arguments=call.arguments,
        turn=turn,
        error=error,
        is_error=error is not None,
    )


def _text_result(call: ToolCallPart, text: str, *, error: bool = False) -> ToolResultPart:
    return ToolResultPart(
        call_id=call.id, content=[TextPart(text=text)], is_error=error, name=call.name
    )


def _truncated(result: ToolResultPart, limit: int) -> ToolResultPart:
    """Cut a result's text to ``limit`` characters, telling the model what was left out."""
    total = sum(len(p.text) for p in result.content if type(p) is TextPart)
    if total <= limit:
        return result
    parts: list[Any] = []
    room = limit
    for part in result.content:
        if type(part) is TextPart:
            kept = part.text[: max(room, 0)]
            room -= len(kept)
            if kept:
                parts.append(TextPart(text=kept))
        else:
            parts.append(part)
    parts.append(
        TextPart(text=f"\n[output truncated: the first {limit} of {total} characters are shown]")
    )
    return msgspec.structs.replace(result, content=cast(Any, parts))


def _without_signatures(message: Message) -> Message:
    if not any(type(p) is ThinkingPart and p.signature for p in message.parts):
        return message
    parts = [
        msgspec.structs.replace(p, signature=None) if type(p) is ThinkingPart else p
        for p in message.parts
    ]
    return Message(role=message.role, parts=parts, name=message.name)
