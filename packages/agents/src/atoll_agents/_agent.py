"""``Agent``: a model (with fallbacks), instructions, tools, an output type and budgets.

Everything that can be checked is checked when the agent is made (tool names, the output
type, limits, prices for a cost budget, model settings), so a run fails only on what happens
during it. An agent holds no run state: one agent serves any number of concurrent runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar

from atoll_dialects import Callback, Callbacks, Client, InvalidOptionError, Redactor
from atoll_tools import (
    ApprovalCallback,
    ApprovalDecision,
    DuplicateToolError,
    Tool,
    ToolDefinitionError,
    ToolSet,
    deny_all,
)
from atoll_wire import ChatRequest, Message, ToolChoice, ToolSpec
from opentelemetry import trace

from ._context import RunContext, wants_context, with_context
from ._conversation import Conversation
from ._exceptions import AgentDefinitionError, AgentsError, ResumeError
from ._limits import FALLBACK_OUTPUT_CEILING, UsageLimits
from ._models import ModelSlot
from ._output import FINAL_TOOL, OutputType, choose_mode
from ._result import AgentResult
from ._run import AgentRun
from ._state import Deferred, RunState
from ._telemetry import get_tracer

OutputT = TypeVar("OutputT")
Prompt = str | Message | Sequence[Message]
HistoryProcessor = Callable[[list[Message]], list[Message] | Awaitable[list[Message]]]
ToolLike = Tool | Callable[..., Any] | ToolSet
# The agent sets these itself on every call; a model setting of the same name would fight it.
_RESERVED = frozenset({"tools", "tool_choice", "output_schema", "system"})


class Agent(Generic[OutputT]):
    """An LLM that calls tools in a loop until it can answer.

    Args:
        model: A registry name (``"openai/gpt-4o-mini"``), a list of names (and/or Clients)
            tried in order when one fails before answering, or a ``Client``.
        instructions: The system instructions, sent with every call (not stored in the
            conversation, so a conversation can move between agents).
        tools: Tools, plain functions (sync or async; a ``RunContext`` parameter is filled in
            and kept out of the schema), ToolSets, and other agents' ``as_tool()``.
        output: The output type: a pydantic model, dataclass, TypedDict, a union of them, any
            type pydantic validates, or a JSON Schema mapping. None: the final text.
        limits: Budgets checked before each step.
        approval: Decides calls to tools marked ``requires_approval``: a callback returning
            ``ApprovalDecision``, ``defer`` (end the run and resume later), or None (deny).
        name: The agent's name (spans, sub-agent tools, errors).
        output_mode: ``auto`` (from the registry: native schema mode, else a final-answer
            tool, else prompted JSON), or ``native``, ``tool``, ``prompted``.
        output_retries: Repair turns allowed for replies that fail the output type.
        tool_retries: Invalid-argument calls allowed per tool (in a row) before it refuses.
        max_repeats: The same call this many times in a row stops the run
            (``stop_reason="loop_detected"``).
        max_tool_output: Characters of a tool result kept; longer ones are cut, with a note.
        history_processor: Called with the messages before each model call; returns the
            messages to send (to trim or summarize); the stored conversation is unchanged.
        sequential: Names of tools that never run concurrently: a turn holding one runs its
            calls one at a time, in the model's order.
        max_tool_concurrency: Calls of one turn running at once at most.
        capture_content: Put arguments, results and the output on spans (and on events).
        tracer_provider: An OpenTelemetry tracer provider (default: the global one).
        callbacks: Called with every run's events: the model calls' (``RequestStarted`` ...
            ``RequestFinished``) and the agent's own ``ToolCalled``, ``ToolFinished`` and
            ``MessageAdded``, each stamped with the run id. Sync callables run in place; async
            ones in tasks that ``async with Agent(...)`` starts (see ``atoll_dialects.Callbacks``).
        redactor: What the agent's events may show (default ``Redactor()``;
            ``capture_content=True`` turns content capture on).
        **model_settings: Call options for every model call (``temperature``,
            ``max_tokens``, ``timeout``, ``extra``, ...), checked now.

    Raises:
        AgentDefinitionError: Two tools share a name, the output type has no JSON Schema, a
            limit is below zero, ``max_cost`` with a model whose price is unknown, an unknown
            or reserved model setting.
    """

    def __init__(
        self,
        model: str | Client | Sequence[str | Client],
        *,
        instructions: str | None = None,
        tools: Iterable[ToolLike] = (),
        output: Any = None,
        limits: UsageLimits | None = None,
        approval: ApprovalCallback | Deferred | None = None,
        name: str | None = None,
        output_mode: Literal["auto", "native", "tool", "prompted"] = "auto",
        output_retries: int = 2,
        tool_retries: int = 2,
        max_repeats: int = 3,
        max_tool_output: int = 50_000,
        history_processor: HistoryProcessor | None = None,
        sequential: Iterable[str] = (),
        max_tool_concurrency: int = 8,
        capture_content: bool = False,
        tracer_provider: trace.TracerProvider | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        redactor: Redactor | None = None,
        **model_settings: Any,
    ) -> None:
        self.name = name or "agent"
        self.instructions = instructions
        for label, value, floor in (
            ("output_retries", output_retries, 0),
            ("tool_retries", tool_retries, 0),
            ("max_repeats", max_repeats, 2),
            ("max_tool_output", max_tool_output, 1),
            ("max_tool_concurrency", max_tool_concurrency, 1),
        ):
            if value < floor:
                raise AgentDefinitionError(f"{label} must be >= {floor}, got {value}", agent=name)
        self.output_retries = output_retries
        self.tool_retries = tool_retries
        self.max_repeats = max_repeats
        self.max_tool_output = max_tool_output
        self.max_tool_concurrency = max_tool_concurrency
        self.history_processor = history_processor
        self.capture_content = capture_content
        self.tracer = get_tracer(tracer_provider)
        self.callbacks = _callbacks(callbacks, name)
        self._started_callbacks = False
        self.approval: ApprovalCallback | Deferred = approval if approval is not None else deny_all
        self.limits = limits
        self.output = OutputType(output, agent=self.name) if output is not None else None
        self.toolset = self._toolset(tools)
        self.sequential = frozenset(sequential)
        unknown = sorted(self.sequential - set(self.toolset.names))
        if unknown:
            raise AgentDefinitionError(f"sequential names unknown tools: {unknown}", agent=name)
        self.tool_specs: list[ToolSpec] = self.toolset.specs()
        self._requested_mode: Literal["auto", "native", "tool", "prompted"] = output_mode
        # A Client made here and then refused (a price, a setting) was never used: dropping it
        # is enough, its transport opens nothing before a first request.
        self.slots = self._slots(model)
        policy = redactor if redactor is not None else Redactor()
        policy = policy.with_capture(capture_content or policy.capture_content)
        for slot in self.slots:  # the Clients' keys and rules mask the agent's events too
            policy = policy.join(slot.client.redactor)
        self.redactor = policy
        self._check_settings(model_settings)
        self.call_options = [self._options(slot, dict(model_settings)) for slot in self.slots]
        self.call_templates = [_template(options) for options in self.call_options]

    # ------------------------------------------------------------------ construction
    def _toolset(self, tools: Iterable[ToolLike]) -> ToolSet:
        toolset = ToolSet(max_concurrency=self.max_tool_concurrency)
        for item in tools:
            members: Iterable[Tool | Callable[..., Any]] = (
                list(item) if isinstance(item, ToolSet) else [item]
            )
            for member in members:
                try:
                    if not isinstance(member, Tool) and wants_context(member):
                        member = Tool(with_context(member))
                    added = toolset.add(member)
                except DuplicateToolError as exc:
                    raise AgentDefinitionError(
                        f"two tools are named {exc.name!r}; tool names must be unique",
                        agent=self.name,
                    ) from exc
                except ToolDefinitionError as exc:
                    raise AgentDefinitionError(str(exc), agent=self.name) from exc
                if added.name == FINAL_TOOL and self.output is not None:
                    raise AgentDefinitionError(
                        f"the tool name {FINAL_TOOL!r} is reserved for the output type",
                        agent=self.name,
                    )
        return toolset

    def _slots(self, model: str | Client | Sequence[str | Client]) -> list[ModelSlot]:
        entries: list[str | Client] = [model] if isinstance(model, str | Client) else list(model)
        if not entries:
            raise AgentDefinitionError("an agent needs at least one model", agent=self.name)
        slots = [
            ModelSlot.of(entry, owned=False)
            if isinstance(entry, Client)
            else ModelSlot.of(Client(entry), owned=True)
            for entry in entries
        ]
        limits = self.limits
        for slot in slots:
            slot.output_mode = choose_mode(slot.specs[0], self._requested_mode)
            if limits is not None and limits.max_cost is not None:
                unpriced = slot.unknown_price()
                if unpriced is not None:
                    raise AgentDefinitionError(
                        f"max_cost needs known prices, and the price of {unpriced} is unknown",
                        agent=self.name,
                    )
        return slots

    def _check_settings(self, settings: Mapping[str, Any]) -> None:
        reserved = sorted(_RESERVED & set(settings))
        if reserved:
            raise AgentDefinitionError(
                f"{', '.join(reserved)} cannot be a model setting: the agent sets it from "
                "instructions=, tools= and output=",
                agent=self.name,
            )
        try:
            # Builds the request only (nothing is sent): the Client's own check of its options.
            self.slots[0].client.stream("", **settings)
        except TypeError as exc:
            raise AgentDefinitionError(f"model settings: {exc}", agent=self.name) from exc

    def _options(self, slot: ModelSlot, settings: dict[str, Any]) -> dict[str, Any]:
        options = settings
        system = self.instructions
        tools = list(self.tool_specs)
        output = self.output
        if output is not None:
            mode = slot.output_mode
            if mode == "native":
                options["output_schema"] = output.spec
            elif mode == "tool":
                tools.append(output.tool_spec())
                options["tool_choice"] = "required"
            else:
                system = f"{system}\n\n{output.instructions()}" if system else output.instructions()
        if system:
            options["system"] = system
        if tools:
            options["tools"] = tools
        limits = self.limits
        if limits is not None and limits.bounds_output and options.get("max_tokens") is None:
            # The budget reserves each call at its ceiling: send that ceiling so it holds.
            options["max_tokens"] = slot.output_ceiling(None) or FALLBACK_OUTPUT_CEILING
        return options

    # ------------------------------------------------------------------ resources
    async def aclose(self) -> None:
        """Deliver events queued for async callbacks; close the Clients the agent made."""
        if self._started_callbacks and self.callbacks is not None:
            self._started_callbacks = False
            await self.callbacks.aclose()
        for slot in self.slots:
            if slot.owned:
                await slot.client.aclose()

    async def __aenter__(self) -> Self:
        callbacks = self.callbacks
        if callbacks is not None and callbacks.has_async and not callbacks.running:
            await callbacks.start()  # their tasks live as long as this block
            self._started_callbacks = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        models = [slot.label for slot in self.slots]
        return f"Agent(name={self.name!r}, models={models!r}, tools={self.toolset.names!r})"

    # ------------------------------------------------------------------ runs
    async def run(
        self,
        prompt_or_messages: Prompt,
        *,
        history: Conversation | Sequence[Message] | None = None,
        deps: Any = None,
    ) -> AgentResult[OutputT]:
        """Run until a final answer or a stop; ``run_stream`` drained.

        Args:
            prompt_or_messages: The user's prompt, or messages to append to the history.
            history: The conversation so far (a ``Conversation`` is forked, not changed).
            deps: Anything tools should see as ``RunContext.deps``.

        Returns:
            The result: output, messages, usage, cost, turns, tool calls, stop reason.

        Raises:
            UsageLimitExceeded: A budget stopped the run (``exc.result`` holds it so far).
            OutputValidationError: The reply failed the output type after every repair.
            APIError: A model call failed on every model (the Client's typed error).
        """
        run: AgentRun[Any] = AgentRun(self, prompt_or_messages, history=history, deps=deps)
        await run.drive()
        return run.result

    def run_stream(
        self,
        prompt_or_messages: Prompt,
        *,
        history: Conversation | Sequence[Message] | None = None,
        deps: Any = None,
    ) -> AgentRun[OutputT]:
        """A streamed run: ``async with agent.run_stream(p) as run: async for event in run``.

        The events are the model's own stream events, unchanged, and the agent's
        (``ToolCallStarted``, ``TurnFinished``, ...); ``run.result`` once they end.

        Args:
            prompt_or_messages: As for ``run``.
            history: As for ``run``.
            deps: As for ``run``.
        """
        return AgentRun(self, prompt_or_messages, history=history, deps=deps)

    async def resume(
        self,
        state: RunState,
        decisions: Mapping[str, ApprovalDecision],
        *,
        deps: Any = None,
    ) -> AgentResult[OutputT]:
        """Go on with a run that stopped for approval, from exactly where it stopped.

        The decided calls run (an approved call with edited arguments is validated again, a
        denied one gets an error result quoting the reason), the turn's results go back, and
        the next model call follows: the model is not asked again for that turn.

        Args:
            state: ``result.state`` of the stopped run, e.g. ``RunState.from_json(text)``.
            decisions: One ``ApprovalDecision`` per pending call id.
            deps: As for ``run``.

        Raises:
            ResumeError: A pending call has no decision, or a decision names no pending call,
                or a pending call's tool is not one of this agent's.
        """
        self._check_resume(state, decisions)
        run: AgentRun[Any] = AgentRun(
            self, None, history=None, deps=deps, state=state, decisions=dict(decisions)
        )
        await run.drive()
        return run.result

    def _check_resume(self, state: RunState, decisions: Mapping[str, ApprovalDecision]) -> None:
        pending = [p.id for p in state.pending]
        missing = [i for i in pending if i not in decisions]
        unknown = [i for i in decisions if i not in pending]
        if missing or unknown:
            raise ResumeError(
                f"decisions must answer exactly the pending calls {pending}",
                missing=missing,
                unknown=unknown,
            )
        for call_id, decision in decisions.items():
            if not isinstance(decision, ApprovalDecision):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ResumeError(f"the decision for {call_id!r} is not an ApprovalDecision")
        absent = sorted({p.name for p in state.pending} - set(self.toolset.names))
        if absent:
            raise ResumeError(f"this agent has no tool named {absent}; resume with the same tools")

    def as_tool(self, name: str, description: str | None = None) -> Tool:
        """This agent as a tool of another agent.

        The tool takes a ``prompt``, runs this agent with its own instructions and tools (and
        the caller's ``deps``), and returns its output; its usage and cost add to the caller's.

        Args:
            name: The tool name.
            description: What the tool does, for the calling model.
        """
        agent = self

        async def ask(context: RunContext[Any], prompt: str) -> Any:
            """Ask the agent.

            Args:
                context: The calling run (filled in; not part of the schema).
                prompt: The request, in full: the agent sees nothing else of the conversation.
            """
            try:
                result = await agent.run(prompt, deps=context.deps)
            except AgentsError as exc:
                partial: AgentResult[Any] | None = getattr(exc, "result", None)
                if partial is not None:
                    context._run.add_child(partial, agent.name)  # pyright: ignore[reportPrivateUsage]
                raise
            context._run.add_child(result, agent.name)  # pyright: ignore[reportPrivateUsage]
            if result.stop_reason == "approval_required":
                return f"The agent {agent.name!r} stopped: calls wait for a person's approval."
            return result.output

        return Tool(
            with_context(ask),
            name=name,
            description=description or f"Ask the {agent.name!r} agent.",
        )


def _callbacks(value: Sequence[Callback] | Callbacks | None, agent: str | None) -> Callbacks | None:
    if value is None or isinstance(value, Callbacks):
        return value
    try:
        return Callbacks(value) if value else None
    except InvalidOptionError as exc:
        raise AgentDefinitionError(str(exc), agent=agent) from exc


CallTemplate = tuple[ChatRequest, Message | None, float | None]


def _template(options: Mapping[str, Any]) -> CallTemplate | None:
    """The call options as a ready ``ChatRequest`` (messages filled in per call), or None.

    Handing the Client a whole request skips its per-call option parsing (a Protocol check per
    call costs more than the rest of the agent's bookkeeping). Options that are not request
    fields keep the keyword path.
    """
    fields = dict(options)
    system = fields.pop("system", None)
    timeout = fields.pop("timeout", None)
    if not set(fields) <= set(ChatRequest.__struct_fields__):
        return None
    if isinstance(fields.get("stop"), str):
        fields["stop"] = [fields["stop"]]
    if isinstance(fields.get("tool_choice"), str):
        fields["tool_choice"] = ToolChoice(mode=fields["tool_choice"])
    schema = fields.get("output_schema")
    if schema is not None and hasattr(schema, "output_schema"):
        fields["output_schema"] = schema.output_schema()
    request = ChatRequest(model="", messages=[], **fields)
    return request, Message.system(str(system)) if system else None, timeout
