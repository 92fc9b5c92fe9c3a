"""The shared path of every chat-style ai* call: plan, send (sync or async), finish.

Planning does everything that needs no network: the schema and template, the first rendering
pass, the target, the options. Sending goes through ``SyncClient`` (sync functions, no hidden
event loop, one keep-alive transport per thread) or ``Client`` (the ``_async`` twins, on asyncio
or trio). Finishing logs the stats line, applies tracer wrappers and picks the return shape.
"""

from __future__ import annotations

import atexit
import importlib
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio
from atoll_dialects import ClientResponse, SyncClient
from atoll_wire import Message, SyncTransport

from ._exceptions import SchemaError
from ._messages import AbstractMessage
from ._neutral import to_neutral_all
from ._options import CallOptions, call_options
from ._preferences import get_preferences
from ._render import Prompt, prompt_messages, render_conversation, report_unused
from ._schemas import AbstractPromptSchema, ChatMLSchema, NoSchema, Wrapper, split_wrappers
from ._stats import report
from ._stream import StreamSink
from ._target import CallTarget, resolve_call, url_option
from ._templates import AITemplate, aitemplates, render_template, template_name
from ._tracer import TraceInfo, trace
from ._wire import chatml, wire_messages

PromptLike = Prompt | AITemplate
"""A prompt, or a template by name (``AITemplate("Name")`` or ``":Name"``)."""


@dataclass
class Common:
    """The keyword arguments every chat-style ai* function shares."""

    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    verbose: bool = True
    return_all: bool = False
    dry_run: bool = False
    conversation: Sequence[AbstractMessage] = ()
    no_system_message: bool = False
    streamcallback: object = None
    name_user: str | None = None
    name_assistant: str | None = None
    http_kwargs: Mapping[str, Any] | None = None
    api_kwargs: Mapping[str, Any] | None = None
    tracer_kwargs: Mapping[str, Any] | None = None
    image_detail: str | None = None
    placeholders: dict[str, Any] = field(default_factory=dict[str, Any])


@dataclass
class ChatPlan:
    """One call, decided and rendered, not yet sent."""

    function: str
    common: Common
    schema: AbstractPromptSchema
    wrappers: list[Wrapper]
    target: CallTarget | None
    conversation: list[AbstractMessage]
    messages: list[Message]
    options: CallOptions
    sink: StreamSink | None
    trace: TraceInfo | None
    run_id: int = field(default_factory=lambda: random.randint(-(2**31), 2**31 - 1))

    @property
    def call(self) -> dict[str, Any]:
        """Keyword options for ``chat``/``stream``."""
        return self.options.call


@dataclass
class Sample:
    """One reply from the Client and how long it took."""

    response: ClientResponse
    elapsed: float


def split_schema(
    first: AbstractPromptSchema | PromptLike, second: PromptLike | None
) -> tuple[AbstractPromptSchema | None, PromptLike]:
    """``(schema, prompt)`` from the two leading positional arguments.

    Raises:
        TypeError: A schema without a prompt, or two prompts.
    """
    if isinstance(first, AbstractPromptSchema):
        if second is None:
            raise TypeError("a prompt must follow the schema: ai*(schema, prompt, ...)")
        return first, second
    if second is not None:
        raise TypeError("the first argument must be a prompt schema when two are given")
    return None, first


def _template_meta(name: str | None) -> dict[str, Any]:
    if name is None:
        return {}
    found = aitemplates(AITemplate(name), limit=1)
    meta: dict[str, Any] = {"template_name": name}
    if found:
        meta["template_version"] = found[0].version
    return meta


def plan_chat(
    function: str,
    first: AbstractPromptSchema | PromptLike,
    second: PromptLike | None,
    common: Common,
    *,
    transform: Callable[[list[AbstractMessage]], list[AbstractMessage]] | None = None,
    internal: Mapping[str, Any] | None = None,
) -> ChatPlan:
    """Decide and render one call (no network).

    Args:
        function: The ai* function's name (for messages).
        first: The schema or the prompt.
        second: The prompt when ``first`` is a schema.
        common: The shared keyword arguments.
        transform: Changes the prompt messages before rendering (``aiscan`` attaches images).
        internal: Placeholder values the function adds itself (``aiclassify``'s choices).

    Raises:
        SchemaError: A render-only schema without ``dry_run``.
        TemplateError: An unknown template.
        RenderError: Two system messages.
    """
    schema, prompt = split_schema(first, second)
    name = template_name(prompt)
    messages = render_template(name) if name is not None else prompt_messages(prompt)  # pyright: ignore[reportArgumentType]
    if transform is not None:
        messages = transform(messages)
    values = {**common.placeholders, **(internal or {})}
    conversation, used = render_conversation(
        messages,
        conversation=common.conversation,
        no_system_message=common.no_system_message,
        name_user=common.name_user,
        replacements=values,
    )
    report_unused(function, common.placeholders, used)
    options = call_options(common.api_kwargs, common.http_kwargs)
    model = common.model or str(get_preferences("MODEL_CHAT"))
    base, wrappers = split_wrappers(schema) if schema is not None else (NoSchema(), [])
    target: CallTarget | None = None
    if schema is not None and isinstance(base, ChatMLSchema | NoSchema):
        if not common.dry_run:
            raise SchemaError(type(base).__name__, "is render-only; use it with dry_run=True")
    else:
        target = resolve_call(
            schema,
            model,
            api_key=common.api_key,
            url=url_option(common.api_kwargs or {}),
        )
        base, wrappers = target.schema, target.wrappers
    sink = None if common.streamcallback is None else StreamSink(common.streamcallback)
    if sink is not None and options.samples > 1:
        raise ValueError("streamcallback streams one sample; drop api_kwargs n or the callback")
    info = None
    if wrappers:
        meta = {
            "api_kwargs": dict(common.api_kwargs or {}),
            "placeholders": dict(common.placeholders),
            "inputs": list(conversation),
            **_template_meta(name),
        }
        label = target.label if target is not None else model
        info = TraceInfo(datetime.now(), label, meta, dict(common.tracer_kwargs or {}))
    return ChatPlan(
        function=function,
        common=common,
        schema=base,
        wrappers=wrappers,
        target=target,
        conversation=conversation,
        messages=to_neutral_all(conversation, common.image_detail),
        options=options,
        sink=sink,
        trace=info,
    )


def dry_run_output(plan: ChatPlan) -> Any:
    """What a dry run returns: the rendered conversation with ``return_all``, else ``None``."""
    if not plan.common.return_all:
        return None
    if isinstance(plan.schema, ChatMLSchema):
        return chatml(plan.conversation, plan.common.image_detail)
    if plan.target is None:
        return list(plan.conversation)
    return wire_messages(plan.target, plan.messages, plan.common.image_detail)


# ------------------------------------------------------------------ sending


async def _one_async(client: Any, plan: ChatPlan) -> Sample:
    started = time.perf_counter()
    sink = plan.sink
    if sink is None:
        response = await client.chat(plan.messages, **plan.call)
    else:
        async with client.stream(plan.messages, **plan.call) as stream:
            async for event in stream:
                await sink.afeed(event)
        response = stream.response
    return Sample(response, time.perf_counter() - started)


async def send_async(plan: ChatPlan) -> list[Sample]:
    """Send the planned call (``n`` samples concurrently) through an async ``Client``."""
    assert plan.target is not None
    samples: list[Sample | None] = [None] * plan.options.samples
    try:
        async with plan.target.async_client(**plan.options.client) as client:
            if len(samples) == 1:
                samples[0] = await _one_async(client, plan)
            else:

                async def one(index: int) -> None:
                    samples[index] = await _one_async(client, plan)

                async with anyio.create_task_group() as group:
                    for index in range(len(samples)):
                        group.start_soon(one, index)
    finally:
        if plan.sink is not None:
            plan.sink.close()
    return [s for s in samples if s is not None]


def _one_sync(client: SyncClient, plan: ChatPlan) -> Sample:
    started = time.perf_counter()
    sink = plan.sink
    if sink is None:
        response = client.chat(plan.messages, **plan.call)
    else:
        with client.stream(plan.messages, **plan.call) as stream:
            for event in stream:
                sink.feed(event)
        response = stream.response
    return Sample(response, time.perf_counter() - started)


def send_sync(plan: ChatPlan) -> list[Sample]:
    """Send the planned call (samples one after another) through a ``SyncClient``."""
    assert plan.target is not None
    if plan.sink is not None:
        plan.sink.check_sync()
    try:
        with plan.target.sync_client(shared_transport(), **plan.options.client) as client:
            return [_one_sync(client, plan) for _ in range(plan.options.samples)]
    finally:
        if plan.sink is not None:
            plan.sink.close()


def finish(plan: ChatPlan, replies: list[AbstractMessage]) -> Any:
    """Log the stats line, apply tracer wrappers and return the legacy shape.

    Returns:
        The reply (a list of them for several samples), or with ``return_all`` the whole
        conversation: the rendered prompt, then the replies.
    """
    report(replies, plan.common.verbose)
    conversation = [*plan.conversation, *replies]
    output = conversation if plan.common.return_all else replies
    if plan.trace is not None:
        plan.trace.meta["time_received"] = datetime.now().isoformat()
        output = trace(plan.wrappers, plan.trace, output, conversation)
    if plan.common.return_all:
        return output
    return output[0] if len(output) == 1 else output


# ------------------------------------------------------------------ the sync transport

_local = threading.local()
_made: list[SyncTransport] = []
_made_lock = threading.Lock()
_generation = 0


def _new_sync_transport() -> SyncTransport:
    for module, name in (
        ("atoll_curl", "SyncCurlTransport"),
        ("atoll_httpx", "SyncHttpxTransport"),
    ):
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        made: SyncTransport = factory()
        return made
    raise ImportError('atoll needs a transport: pip install "atoll-dialects[curl]" or "[httpx]"')


def shared_transport() -> SyncTransport:
    """This thread's keep-alive sync transport (closed at interpreter exit)."""
    transport: SyncTransport | None = getattr(_local, "transport", None)
    if transport is None or getattr(_local, "generation", -1) != _generation:
        transport = _new_sync_transport()
        _local.transport, _local.generation = transport, _generation
        with _made_lock:
            _made.append(transport)
    return transport


@atexit.register
def close_connections() -> None:
    """Close every thread's shared sync transport; later calls open new ones."""
    global _generation
    with _made_lock:
        made = list(_made)
        _made.clear()
        _generation += 1
    for transport in made:
        transport.close()
