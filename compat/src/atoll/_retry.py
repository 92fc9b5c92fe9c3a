"""``airetry_`` (``airetry!`` in the legacy API): check a lazy call's output, retry with feedback.

``airetry_(check, aicall, feedback)`` evaluates ``check(aicall)``; while it fails and the budget
(``max_retries``, ``max_calls``) allows, it picks the most promising attempt in the sample tree,
adds the feedback as a user turn (through the ``FeedbackFromEvaluator`` template) and runs the
call again. Checks stack: a second ``airetry_`` only sees attempts that passed the first.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

import anyio

from ._exceptions import RetryBudgetError
from ._lazy import AICall, run_, run__async
from ._messages import AbstractMessage, UserMessage
from ._render import fill
from ._samples import SampleNode, select_best
from ._stats import info
from ._templates import render_template

Check = Callable[[AICall], Any]
Feedback = str | Callable[[AICall], Any]


def _truth(value: Any) -> bool:
    if inspect.isawaitable(value):
        close = getattr(value, "close", None)
        if callable(close):
            close()
        raise TypeError("an async check or feedback needs airetry__async")
    return bool(value)


def evaluate_condition(
    check: Check,
    aicall: AICall,
    feedback: Feedback = "",
    *,
    evaluate_all: bool = True,
    feedback_expensive: bool = False,
) -> tuple[bool, SampleNode]:
    """Evaluate ``check`` on the attempts still in the running; record wins and feedback.

    Returns:
        Whether an attempt passed, and the attempt to continue from (the one that passed, or
        the most promising one to retry from).
    """
    saved, active = aicall.conversation, aicall.active_sample_id
    passed_id: int | None = None
    for sample in aicall.samples.pre_order():
        if not evaluate_all and sample.id != active:
            continue
        if sample.success is not True and sample.id != active:
            continue
        aicall.conversation, aicall.active_sample_id = sample.data, sample.id
        result = _truth(check(aicall))
        if result:
            passed_id = sample.id
        else:
            sample.success = False
            if not feedback_expensive and feedback != "":
                sample.feedback += "\n" + _truth_text(feedback, aicall)
        sample.backpropagate(wins=int(result), visits=1)
    if passed_id is not None:
        chosen = aicall.samples[passed_id]
    else:
        chosen = select_best(aicall.samples, aicall.config.scoring, aicall.config.ordering)
        if feedback != "" and feedback_expensive:
            aicall.conversation, aicall.active_sample_id = chosen.data, chosen.id
            chosen.feedback = "\n" + _truth_text(feedback, aicall)
    aicall.conversation, aicall.active_sample_id = saved, active
    return passed_id is not None, chosen


def _truth_text(feedback: Feedback, aicall: AICall) -> str:
    text = feedback(aicall) if callable(feedback) else feedback
    if inspect.isawaitable(text):
        _truth(text)
    return str(text)


def add_feedback(
    conversation: list[AbstractMessage],
    sample: SampleNode,
    *,
    feedback_inplace: bool = False,
    feedback_template: str = "FeedbackFromEvaluator",
) -> list[AbstractMessage]:
    """A copy of ``conversation`` with the sample's feedback added as a user turn.

    With ``feedback_inplace`` the last assistant turn is dropped and all feedback so far (the
    sample's and its ancestors') is appended to the last user message instead.
    """
    text = sample.all_feedback() if feedback_inplace else sample.feedback
    if not text.strip():
        return list(conversation)
    template = render_template(feedback_template)
    last = template[-1]
    assert isinstance(last, UserMessage)
    message = fill(last.content, last.variables, {"feedback": text})
    out = list(conversation)
    if not feedback_inplace:
        return [*out, UserMessage(message)]
    while out:
        popped = out.pop()
        if isinstance(popped, UserMessage):
            return [*out, UserMessage(popped.content + "\n\n" + message)]
    raise ValueError("no user message to add the feedback into")


def _should_stop(aicall: AICall, max_retries: int, throw: bool, verbose: bool | int) -> bool:
    config = aicall.config
    if config.calls < config.max_calls and config.retries < max_retries:
        return False
    if throw:
        raise RetryBudgetError(config.retries, max_retries, config.calls, config.max_calls)
    info(
        "Condition not met, but maximum retry budget was reached "
        f"(Retries: {config.retries}/{max_retries}, Calls: {config.calls}/{config.max_calls}).",
        verbose,
    )
    return True


def _step(
    check: Check,
    aicall: AICall,
    feedback: Feedback,
    evaluate_all: bool,
    feedback_expensive: bool,
) -> bool:
    passed, sample = evaluate_condition(
        check, aicall, feedback, evaluate_all=evaluate_all, feedback_expensive=feedback_expensive
    )
    aicall.conversation, aicall.active_sample_id = sample.data, sample.id
    aicall.success = passed
    if not passed and sample.feedback:
        aicall.conversation = add_feedback(
            sample.data,
            sample,
            feedback_inplace=aicall.config.feedback_inplace,
            feedback_template=aicall.config.feedback_template,
        )
    return passed


def _start(aicall: AICall) -> None:
    if aicall.success is None:
        raise ValueError("run the call first (run_(aicall)) before checking it with airetry_")


def airetry_(
    check: Check,
    aicall: AICall,
    feedback: Feedback = "",
    *,
    verbose: bool | int = True,
    throw: bool = False,
    evaluate_all: bool = True,
    feedback_expensive: bool = False,
    max_retries: int | None = None,
    retry_delay: float | None = None,
) -> AICall:
    """Check the call's output and retry with feedback until it passes or the budget ends.

    Args:
        check: ``check(aicall) -> bool``; use ``aicall.last_output()``.
        aicall: A call already run with ``run_``.
        feedback: Text, or ``feedback(aicall) -> str``, sent when the check fails.
        verbose: Log each retry.
        throw: Raise ``RetryBudgetError`` when the budget ends with the check still failing.
        evaluate_all: Check every attempt still passing so far, not only the active one.
        feedback_expensive: Compute feedback only for the attempt retried from.
        max_retries: Retry budget (default ``aicall.config.max_retries``).
        retry_delay: Seconds between retries (default ``aicall.config.retry_delay``).

    Returns:
        ``aicall``, on the attempt that passed (or the best one when the budget ran out).
    """
    _start(aicall)
    limit = aicall.config.max_retries if max_retries is None else max_retries
    delay = aicall.config.retry_delay if retry_delay is None else retry_delay
    verbose = min(int(verbose), int(aicall.kwargs.get("verbose", 99)))
    while not _step(check, aicall, feedback, evaluate_all, feedback_expensive):
        if _should_stop(aicall, limit, throw, verbose):
            break
        info("Condition not met. Retrying...", verbose)
        time.sleep(delay)
        aicall.config.retries += 1
        run_(aicall, verbose=verbose)
    return aicall


async def airetry__async(
    check: Check,
    aicall: AICall,
    feedback: Feedback = "",
    *,
    verbose: bool | int = True,
    throw: bool = False,
    evaluate_all: bool = True,
    feedback_expensive: bool = False,
    max_retries: int | None = None,
    retry_delay: float | None = None,
) -> AICall:
    """``airetry_`` on the running event loop, retrying with ``run__async``; same arguments."""
    _start(aicall)
    limit = aicall.config.max_retries if max_retries is None else max_retries
    delay = aicall.config.retry_delay if retry_delay is None else retry_delay
    verbose = min(int(verbose), int(aicall.kwargs.get("verbose", 99)))
    while not _step(check, aicall, feedback, evaluate_all, feedback_expensive):
        if _should_stop(aicall, limit, throw, verbose):
            break
        info("Condition not met. Retrying...", verbose)
        await anyio.sleep(delay)
        aicall.config.retries += 1
        await run__async(aicall, verbose=verbose)
    return aicall
