"""What ``Client`` and ``SyncClient`` share: resolving models, checking settings, making loops."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from atoll_registry import Registry
from atoll_wire import HttpRequest, Timeout, TransportError, checked_header_value
from opentelemetry import trace

from . import _metrics
from ._attempts import AttemptLoop
from ._auth import Auth, HeaderKeyAuth
from ._engine import Engine
from ._exceptions import InvalidOptionError
from ._metrics import Meters
from ._redactor import Redactor
from ._request import MessagesOrPrompt, build_request
from ._retry import RetryPolicy
from ._target import Target, resolve_target
from ._telemetry import get_tracer

if TYPE_CHECKING:  # loaded when first needed, not on import
    from opentelemetry.metrics import MeterProvider

    from ._callbacks import Callbacks
    from ._feedback import LimiterFeedback
    from ._observe import CallObserver

__all__ = ["ClientBase"]


def _deadline(value: object, option: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidOptionError(option, value, "a positive number of seconds")
    return float(value)


def _headers(value: Mapping[str, str] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidOptionError("default_headers", value, "a mapping of header names to values")
    headers: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not isinstance(item, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("default_headers", value, "string header names and values")
        try:
            checked_header_value(name, item)
        except TransportError:
            raise InvalidOptionError(
                "default_headers", f"<header {name!r}>", "names and values without newlines"
            ) from None
        headers[name] = item
    return headers


def _feedback(limiters: object) -> LimiterFeedback | None:
    if limiters is None:
        return None
    from ._feedback import limiter_feedback  # pulls in atoll_generic: only when asked

    return limiter_feedback(limiters)


def make_engine(
    model: str | Sequence[str],
    *,
    base_url: str | None,
    api_key: str | None,
    retry: RetryPolicy | None,
    timeout: float | Timeout | None,
    dialect: str | None,
    registry: Registry | None,
    auth: Auth | None,
    settings: Mapping[str, str] | None,
    default_headers: Mapping[str, str] | None,
    limiters: object = None,
) -> Engine:
    """Check the settings both clients share and resolve the models.

    Raises:
        InvalidOptionError: A setting of the wrong type or value.
    """
    names = [model] if isinstance(model, str) else list(model)
    if not names or not all(isinstance(n, str) and n for n in names):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidOptionError("model", model, "a model name or a non-empty list of names")
    if retry is not None and not isinstance(retry, RetryPolicy):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidOptionError("retry", retry, "a RetryPolicy (RetryPolicy(attempts=3))")
    if auth is not None and not isinstance(auth, Auth):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise InvalidOptionError("auth", auth, "an atoll_dialects.Auth")
    registry = registry or Registry.default()
    targets = [
        resolve_target(
            n,
            registry=registry,
            base_url=base_url,
            api_key=api_key,
            dialect=dialect,
            auth=auth,
            settings=settings,
        )
        for n in names
    ]
    if isinstance(timeout, Timeout):
        transport_timeout, overall = timeout, None
    else:
        transport_timeout, overall = Timeout(), _deadline(timeout, "timeout")
    return Engine(
        targets=targets,
        registry=registry,
        retry=retry or RetryPolicy(),
        transport_timeout=transport_timeout,
        deadline_seconds=overall,
        default_headers=_headers(default_headers),
        feedback=_feedback(limiters),
    )


def _known_keys(targets: Sequence[Target]) -> list[str]:
    """The secrets a client holds, to mask by value (some key formats have no telltale prefix)."""
    keys: list[str] = []
    for target in targets:
        if target.api_key:
            keys.append(target.api_key)
        if isinstance(target.auth, HeaderKeyAuth):
            for value in target.auth.headers().values():
                keys.append(value.removeprefix("Bearer ").removeprefix("bearer "))
    return keys


def _labels(engine: Engine) -> tuple[str, ...]:
    return tuple(t.label for t in engine.targets)


class ClientBase:
    """Settings and loop-making shared by the async and sync clients."""

    _engine: Engine
    _tracer: trace.Tracer
    _capture: bool
    _redactor: Redactor
    _callbacks: Callbacks | None
    _meters: Meters
    _sync_only: bool
    _quiet: bool
    _labels: tuple[str, ...]

    def _setup(
        self,
        model: str | Sequence[str],
        tracer_provider: trace.TracerProvider | None,
        capture_content: bool,
        *,
        callbacks: object = None,
        redactor: Redactor | None = None,
        meter_provider: MeterProvider | None = None,
        sync_only: bool = False,
        **settings: Any,
    ) -> None:
        if redactor is not None and not isinstance(redactor, Redactor):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("redactor", redactor, "an atoll_dialects.Redactor")
        self._sync_only = sync_only
        self._callbacks = None
        if callbacks is not None:
            from ._callbacks import as_callbacks

            self._callbacks = as_callbacks(callbacks, sync_only=sync_only)
        self._engine = make_engine(model, **settings)
        self._tracer = get_tracer(tracer_provider)
        policy = redactor if redactor is not None else Redactor()
        policy = policy.with_capture(bool(capture_content) or policy.capture_content)
        self._redactor = policy.with_secrets(_known_keys(self._engine.targets))
        self._capture = self._redactor.capture_content
        self._meters = Meters(meter_provider)
        self._labels = _labels(self._engine)
        # No callbacks and no meter of its own: only a global meter provider could listen.
        self._quiet = self._callbacks is None and meter_provider is None

    @property
    def targets(self) -> Sequence[Target]:
        """The resolved models, in fallback order."""
        return self._engine.targets

    @property
    def registry(self) -> Registry:
        """The registry prices and model facts come from."""
        return self._engine.registry

    @property
    def redactor(self) -> Redactor:
        """What this client's spans, events, logs and errors may show."""
        return self._redactor

    @property
    def callbacks(self) -> Callbacks | None:
        """The client's event callbacks, if any."""
        return self._callbacks

    def _observer(
        self, callbacks: object, operation: str, stream: bool, engine: Engine
    ) -> CallObserver | None:
        """The call's observer, or None when nobody listens (then the call pays nothing).

        Callers skip this call when ``callbacks is None and self._quiet`` and the global meter
        provider is unset (``_metrics.meter_api._METER_PROVIDER is None``): no callback and no
        meter provider, the common case, decided in a few attribute reads.
        """
        # Loaded by the first observed call: a program that never listens never imports them.
        from ._callbacks import as_callbacks
        from ._observe import CallObserver

        own = self._callbacks
        extra = None if callbacks is None else as_callbacks(callbacks, sync_only=self._sync_only)
        instruments = self._meters.current()
        if own is None and extra is None and instruments is None:
            return None
        listeners = tuple(x for x in (own, extra) if x is not None)
        return CallObserver(
            listeners,
            instruments,
            self._redactor,
            operation=operation,
            stream=stream,
            models=self._labels if engine is self._engine else _labels(engine),
        )

    def _call_headers(self, extra: Mapping[str, str] | None) -> Mapping[str, str] | None:
        defaults = self._engine.default_headers
        if not extra:
            return defaults or None
        return {**defaults, **extra}

    def _chat_loop(
        self,
        messages_or_prompt: MessagesOrPrompt,
        options: Mapping[str, Any],
        *,
        stream: bool,
        timeout: object,
        transport_timeout: Timeout | None,
        callbacks: object = None,
    ) -> AttemptLoop:
        request, extra_headers = build_request(messages_or_prompt, options, stream=stream)
        engine = self._engine
        return AttemptLoop(
            engine,
            request,
            engine.deadline(_deadline(timeout, "timeout")),
            operation="chat",
            tracer=self._tracer,
            headers=self._call_headers(extra_headers),
            transport_timeout=transport_timeout,
            observer=None
            if callbacks is None and self._quiet and _metrics.meter_api._METER_PROVIDER is None
            else self._observer(callbacks, "chat", stream, engine),
            redactor=self._redactor,
        )

    def _loop(
        self,
        operation: str,
        build: Callable[[Target], HttpRequest],
        *,
        timeout: object,
        transport_timeout: Timeout | None,
        first_only: bool = True,
        callbacks: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> AttemptLoop:
        engine = self._engine
        if first_only and len(engine.targets) > 1:
            engine = Engine(
                targets=engine.targets[:1],
                registry=engine.registry,
                retry=engine.retry,
                transport_timeout=engine.transport_timeout,
                deadline_seconds=engine.deadline_seconds,
                max_response_bytes=engine.max_response_bytes,
                default_headers=engine.default_headers,
                feedback=engine.feedback,
                relaxed=engine.relaxed,
            )
        return AttemptLoop(
            engine,
            None,
            engine.deadline(_deadline(timeout, "timeout")),
            operation=operation,
            tracer=self._tracer,
            build=build,
            headers=self._call_headers(headers),
            transport_timeout=transport_timeout,
            observer=None
            if callbacks is None and self._quiet and _metrics.meter_api._METER_PROVIDER is None
            else self._observer(callbacks, operation, False, engine),
            redactor=self._redactor,
        )
