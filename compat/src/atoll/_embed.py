"""``aiembed`` and ``aiembed_async``: vectors from an OpenAI-compatible embeddings endpoint.

The result is a ``DataMessage``: ``content`` is one vector for one text, a list of vectors (in
input order) for several. Its cost is the registry's price of the input tokens, or ``None`` with
the reason when the model has no price.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from atoll_dialects import Embeddings
from atoll_registry import Cost, Registry
from atoll_wire import Usage

from ._engine import shared_transport
from ._messages import DataMessage
from ._options import call_options
from ._preferences import get_preferences
from ._schemas import AbstractPromptSchema
from ._stats import report
from ._target import CallTarget, resolve_call, url_option

Docs = str | Sequence[str]
Postprocess = Callable[[list[float]], Any]


def _split(
    first: AbstractPromptSchema | Docs,
    second: Docs | Postprocess | None,
    third: Postprocess | None,
) -> tuple[AbstractPromptSchema | None, Docs, Postprocess | None]:
    """``(schema, docs, postprocess)`` from the legacy positional forms.

    ``aiembed(docs)``, ``aiembed(docs, postprocess)``, ``aiembed(schema, docs)`` and
    ``aiembed(schema, docs, postprocess)``.
    """
    if isinstance(first, AbstractPromptSchema):
        if second is None or callable(second):
            raise TypeError("the texts must follow the schema: aiembed(schema, docs, ...)")
        return first, second, third
    if third is not None or (second is not None and not callable(second)):
        raise TypeError("aiembed(docs, postprocess): the second argument must be callable")
    return None, first, second


def _target(
    schema: AbstractPromptSchema | None,
    model: str | None,
    api_key: str | None,
    api_kwargs: Mapping[str, Any],
) -> CallTarget:
    name = model or str(get_preferences("MODEL_EMBEDDING"))
    return resolve_call(schema, name, api_key=api_key, url=url_option(api_kwargs))


def _message(
    target: CallTarget,
    docs: Docs,
    result: Embeddings,
    elapsed: float,
    postprocess: Postprocess | None,
) -> DataMessage:
    vectors: list[Any] = [postprocess(v) if postprocess else v for v in result.vectors]
    usage = result.usage or Usage()
    extras: dict[str, Any] = {"served_by": target.label}
    cost: Cost | None = None
    if target.spec is None:
        extras["cost_note"] = f"model {target.name!r} is not in the registry; its price is unknown"
    else:
        priced = Registry.default().explain_cost(
            target.spec, Usage(input_tokens=usage.input_tokens, output_tokens=0)
        )
        if isinstance(priced, Cost):
            cost = priced
            extras["cost_usd"] = str(priced.total)
        else:
            extras["cost_note"] = priced.reason
    return DataMessage(
        content=vectors[0] if isinstance(docs, str) else vectors,
        status=200,
        tokens=(-1 if usage.input_tokens is None else usage.input_tokens, 0),
        elapsed=elapsed,
        cost=None if cost is None else float(cost.total),
        usage=usage,
        extras=extras,
        run_id=random.randint(-(2**31), 2**31 - 1),
    )


def aiembed(
    schema_or_docs: AbstractPromptSchema | Docs,
    docs_or_postprocess: Docs | Postprocess | None = None,
    postprocess: Postprocess | None = None,
    /,
    *,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
) -> DataMessage:
    """Embed one text or several.

    Args:
        schema_or_docs: A prompt schema (then the texts follow), or the texts.
        docs_or_postprocess: The texts after a schema; else the ``postprocess`` function.
        postprocess: Applied to each vector (for example a normalisation).
        model: The embedding model (default: the ``MODEL_EMBEDDING`` preference).
        api_key: See ``aigenerate``.
        verbose: Log the stats line.
        http_kwargs: See ``aigenerate``.
        api_kwargs: ``dimensions``, and ``url`` for ``CustomOpenAISchema``.

    Returns:
        A ``DataMessage`` holding the vector(s).
    """
    schema, texts, post = _split(schema_or_docs, docs_or_postprocess, postprocess)
    api = dict(api_kwargs or {})
    target = _target(schema, model, api_key, api)
    options = call_options({}, http_kwargs)
    started = time.perf_counter()
    with target.sync_client(shared_transport(), **options.client) as client:
        result = client.embed(texts, dimensions=api.get("dimensions"))
    message = _message(target, texts, result, time.perf_counter() - started, post)
    report([message], verbose)
    return message


async def aiembed_async(
    schema_or_docs: AbstractPromptSchema | Docs,
    docs_or_postprocess: Docs | Postprocess | None = None,
    postprocess: Postprocess | None = None,
    /,
    *,
    model: str | None = None,
    api_key: str | None = None,
    verbose: bool = True,
    http_kwargs: Mapping[str, Any] | None = None,
    api_kwargs: Mapping[str, Any] | None = None,
) -> DataMessage:
    """``aiembed`` on the running event loop (asyncio or trio); same arguments."""
    schema, texts, post = _split(schema_or_docs, docs_or_postprocess, postprocess)
    api = dict(api_kwargs or {})
    target = _target(schema, model, api_key, api)
    options = call_options({}, http_kwargs)
    started = time.perf_counter()
    async with target.async_client(**options.client) as client:
        result = await client.embed(texts, dimensions=api.get("dimensions"))
    message = _message(target, texts, result, time.perf_counter() - started, post)
    report([message], verbose)
    return message
