"""Lazy calls: ``AICall`` (``AIGenerate``, ``AIExtract``, ...) and ``run_`` / ``run__async``.

An ``AICall`` keeps a function, its arguments and the conversation so far, and runs only when
asked: ``run_(call)``, or ``call("next user message")`` to continue. Each run keeps the whole
conversation (``return_all``) in a tree of samples that ``airetry_`` searches.

Fixed: ``RetryConfig.temperature`` applies only when the caller set none; a ``temperature`` in
``api_kwargs`` is never overridden.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from atoll_registry import Registry

from ._api_extract import aiclassify, aiclassify_async, aiextract, aiextract_async
from ._api_tools import aitools, aitools_async
from ._embed import aiembed, aiembed_async
from ._generate import aigenerate, aigenerate_async, aiscan, aiscan_async
from ._messages import AbstractMessage, UserMessage
from ._preferences import get_preferences
from ._render import prompt_messages
from ._samples import UCT, Ordering, SampleNode, Scoring
from ._schemas import AbstractPromptSchema
from ._stats import info
from ._templates import render_template, template_name

_TWINS: dict[Callable[..., Any], Callable[..., Any]] = {
    aigenerate: aigenerate_async,
    aiextract: aiextract_async,
    aiclassify: aiclassify_async,
    aiscan: aiscan_async,
    aitools: aitools_async,
    aiembed: aiembed_async,
}
_SYNC = {v: k for k, v in _TWINS.items()}


@dataclass
class RetryConfig:
    """How ``run_`` samples and ``airetry_`` retries.

    Attributes:
        retries: Retries made so far.
        calls: Successful calls made so far (all samples, all rounds).
        max_retries: Retry budget.
        max_calls: Call budget.
        retry_delay: Seconds between retry rounds.
        n_samples: Samples per round.
        scoring: How the sample to retry from is chosen (``UCT()`` or ``ThompsonSampling()``).
        ordering: Tree walk for ties: ``"PostOrderDFS"`` (leaves first) or ``"PreOrderDFS"``.
        feedback_inplace: Put feedback into the last user message instead of a new one.
        feedback_template: The template that wraps feedback (``{{feedback}}``).
        temperature: Used when the call sets no temperature (never overrides one).
        catch_errors: Keep a failed call's error in ``aicall.error`` instead of raising it.
    """

    retries: int = 0
    calls: int = 0
    max_retries: int = 10
    max_calls: int = 99
    retry_delay: float = 0
    n_samples: int = 1
    scoring: Scoring = field(default_factory=UCT)
    ordering: Ordering = "PostOrderDFS"
    feedback_inplace: bool = False
    feedback_template: str = "FeedbackFromEvaluator"
    temperature: float = 0.7
    catch_errors: bool = False


def _conversation(prompt: Any) -> list[AbstractMessage]:
    name = template_name(prompt)
    return render_template(name) if name is not None else prompt_messages(prompt)


class AICall:
    """A call of an ai* function, made when run.

    Args:
        func: ``aigenerate``, ``aiextract``, ... (or an ``_async`` twin).
        *args: As for the function: ``[schema,] prompt``.
        config: Sampling and retry settings.
        **kwargs: The function's keyword arguments and placeholder values.

    Attributes:
        conversation: The conversation so far (the prompt before the first run).
        success: Whether the last run (or check) succeeded; ``None`` before a run.
        error: The error of the last failed run when ``catch_errors`` kept it.
        samples: The root of the tree of attempts.
        active_sample_id: The attempt ``conversation`` belongs to.
        memory: Free space for your checks.
    """

    def __init__(
        self, func: Callable[..., Any], *args: Any, config: RetryConfig | None = None, **kwargs: Any
    ) -> None:
        self.func = func
        self.schema: AbstractPromptSchema | None = None
        if args and isinstance(args[0], AbstractPromptSchema):
            self.schema, args = args[0], args[1:]
        if len(args) > 1:
            raise TypeError("AICall takes at most a schema and a prompt as positional arguments")
        self.conversation: list[AbstractMessage] = _conversation(args[0]) if args else []
        self.kwargs: dict[str, Any] = dict(kwargs)
        self.config = config or RetryConfig()
        self.success: bool | None = None
        self.error: BaseException | None = None
        self.samples = SampleNode(data=[])
        self.active_sample_id = -1
        self.memory: dict[str, Any] = {}

    def __call__(self, message: str | UserMessage, **kwargs: Any) -> AICall:
        """Add a user message and run (sync functions only)."""
        self.conversation.append(UserMessage(message) if isinstance(message, str) else message)
        return run_(self, **kwargs)

    def __repr__(self) -> str:
        name = getattr(self.func, "__name__", "call")
        return f"AICall({name}, messages: {len(self.conversation)}, success: {self.success})"

    def isvalid(self) -> bool:
        """Whether the last run or check succeeded."""
        return self.success is True

    def last_message(self) -> AbstractMessage | None:
        """The last message of the conversation."""
        return self.conversation[-1] if self.conversation else None

    def last_output(self) -> Any:
        """The last message's content."""
        message = self.last_message()
        return None if message is None else getattr(message, "content", None)

    def copy(self) -> AICall:
        """A deep copy (conversation, samples and config)."""
        return copy.deepcopy(self)


def AIGenerate(*args: Any, **kwargs: Any) -> AICall:
    """A lazy ``aigenerate`` call."""
    return AICall(aigenerate, *args, **kwargs)


def AIExtract(*args: Any, **kwargs: Any) -> AICall:
    """A lazy ``aiextract`` call."""
    return AICall(aiextract, *args, **kwargs)


def AIClassify(*args: Any, **kwargs: Any) -> AICall:
    """A lazy ``aiclassify`` call."""
    return AICall(aiclassify, *args, **kwargs)


def AIScan(*args: Any, **kwargs: Any) -> AICall:
    """A lazy ``aiscan`` call."""
    return AICall(aiscan, *args, **kwargs)


def AITools(*args: Any, **kwargs: Any) -> AICall:
    """A lazy ``aitools`` call."""
    return AICall(aitools, *args, **kwargs)


def AIEmbed(*args: Any, **kwargs: Any) -> AICall:
    """A lazy ``aiembed`` call."""
    return AICall(aiembed, *args, **kwargs)


# ------------------------------------------------------------------ running


def _reasoning_model(aicall: AICall) -> bool:
    name = aicall.kwargs.get("model") or str(get_preferences("MODEL_CHAT"))
    try:
        return bool(Registry.default().resolve(str(name)).capabilities.reasoning)
    except LookupError:
        return False


def _api_kwargs(aicall: AICall, extra: dict[str, Any], sample: int) -> dict[str, Any]:
    api = {**dict(aicall.kwargs.get("api_kwargs") or {}), **dict(extra.get("api_kwargs") or {})}
    if "temperature" not in api and not _reasoning_model(aicall):
        temperature = aicall.config.temperature
        # A nudge per sample keeps providers from serving one cached answer to every sample.
        api["temperature"] = temperature + 1e-3 * sample if temperature else temperature
    return api


def _arguments(
    aicall: AICall, extra: dict[str, Any], sample: int
) -> tuple[list[Any], dict[str, Any]]:
    positional: list[Any] = [aicall.schema] if aicall.schema is not None else []
    keywords = {**aicall.kwargs, **extra}
    if aicall.func not in (aiembed, aiembed_async):
        positional.append(list(aicall.conversation))
        keywords["api_kwargs"] = _api_kwargs(aicall, extra, sample)
        keywords["return_all"] = True
    return positional, keywords


def split_samples(result: Any) -> list[list[AbstractMessage]]:
    """One conversation per sample of a ``return_all`` result (the prompt shared)."""
    if not isinstance(result, list):
        return [[result]]
    messages: list[AbstractMessage] = list(result)  # pyright: ignore[reportUnknownArgumentType]
    first = next(
        (i for i, m in enumerate(messages) if getattr(m, "sample_id", None) is not None), None
    )
    if first is None:
        return [messages]
    base = messages[:first]
    return [[*base, m] for m in messages[first:]]


def _record(aicall: AICall, parent: SampleNode, result: Any) -> None:
    for conversation in split_samples(result):
        node = parent.expand(conversation, success=True)
        aicall.active_sample_id = node.id
        aicall.config.calls += 1


def _finalize(aicall: AICall) -> None:
    if aicall.success is not True:
        return
    current = aicall.samples.find(aicall.active_sample_id)
    assert current is not None
    aicall.conversation = list(current.data)
    # Placeholders are filled now; drop them so later runs do not report them as unused.
    accepted = inspect.signature(aicall.func).parameters
    aicall.kwargs = {k: v for k, v in aicall.kwargs.items() if k in accepted}
    if current.parent is aicall.samples and not aicall.samples.data:
        aicall.samples.data = list(aicall.conversation[:-1])


def _budget_left(aicall: AICall, verbose: bool | int) -> bool:
    if aicall.config.calls < aicall.config.max_calls:
        return True
    info(
        f"Max calls limit reached (calls: {aicall.config.calls}). Generation interrupted.", verbose
    )
    return False


def run_(
    aicall: AICall, *, verbose: int = 1, catch_errors: bool | None = None, **kwargs: Any
) -> AICall:
    """Run the call (``run!`` in the legacy API): ``n_samples`` calls within the budget.

    Args:
        aicall: The lazy call.
        verbose: 0 silences the info lines.
        catch_errors: Keep an error in ``aicall.error`` (default: ``config.catch_errors``).
        **kwargs: Keyword arguments for this run only (merged over the call's).

    Returns:
        The same ``aicall``, with its conversation, samples and success updated.
    """
    func = _SYNC.get(aicall.func, aicall.func)
    catch = aicall.config.catch_errors if catch_errors is None else catch_errors
    verbose = min(int(verbose), int(aicall.kwargs.get("verbose", 99)))
    parent = aicall.samples.find(aicall.active_sample_id) or aicall.samples
    for sample in range(aicall.config.n_samples):
        if not _budget_left(aicall, verbose):
            break
        positional, keywords = _arguments(aicall, kwargs, sample)
        try:
            result = func(*positional, **keywords)
        except Exception as error:
            info("Error detected and caught in AICall", verbose)
            aicall.success, aicall.error = False, error
            if not catch:
                raise
            break
        _record(aicall, parent, result)
        aicall.success = True
    _finalize(aicall)
    return aicall


async def run__async(
    aicall: AICall, *, verbose: int = 1, catch_errors: bool | None = None, **kwargs: Any
) -> AICall:
    """``run_`` with the ``_async`` twin of the call's function; same arguments."""
    func = _TWINS.get(aicall.func, aicall.func)
    if not inspect.iscoroutinefunction(func):
        raise TypeError(f"{getattr(func, '__name__', func)!r} has no async twin")
    catch = aicall.config.catch_errors if catch_errors is None else catch_errors
    verbose = min(int(verbose), int(aicall.kwargs.get("verbose", 99)))
    parent = aicall.samples.find(aicall.active_sample_id) or aicall.samples
    for sample in range(aicall.config.n_samples):
        if not _budget_left(aicall, verbose):
            break
        positional, keywords = _arguments(aicall, kwargs, sample)
        try:
            result = await func(*positional, **keywords)
        except Exception as error:
            info("Error detected and caught in AICall", verbose)
            aicall.success, aicall.error = False, error
            if not catch:
                raise
            break
        _record(aicall, parent, result)
        aicall.success = True
    _finalize(aicall)
    return aicall
