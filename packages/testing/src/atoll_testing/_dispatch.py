"""Request handling on the server thread: route table, auth, faults, replay, models, the log.

Order for each request: match a route (its dialect decides every shape that follows); the
server's control routes answer at once; otherwise log the request, proxy it when recording,
check the key in the route dialect's own header, read the fault, serve an ``x-atoll-replay``
case, and call the route's handler. Chat handlers come back through :meth:`Dispatcher.answer`
for the model lookup, the script and the rendering.
"""

from __future__ import annotations

import hmac
import itertools
import re
import threading
from collections import Counter, deque
from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING

import msgspec

from ._cases import Case, Replay
from ._control import control_routes
from ._dialect import ServerDialect
from ._exceptions import AtollTestingError, DialectError, FaultSyntaxError, RequestError
from ._exchange import Exchange
from ._fault_reply import apply_fault
from ._faults import Fault
from ._http import Request
from ._inputs import ChatInput
from ._log import RecordedRequest
from ._log import record as log_entry
from ._reply import JSON, Reply
from ._routes import Match, RouteTable
from ._script import ModelFn, echo, stream_model

if TYPE_CHECKING:
    from ._server import FakeLLMServer

_REDACTED = "[redacted]"  # atoll_wire.redact_headers' marker
_STREAM_N = re.compile(r"^stream-(\d{1,6})$")  # up to 999,999 events (~235 MB of SSE)
Model = ModelFn | Replay
Result = Reply | Awaitable[Reply]


class Dispatcher:
    """Answers requests for one server; its log, counters and injected faults live here."""

    def __init__(
        self,
        server: FakeLLMServer,
        dialects: Sequence[ServerDialect],
        api_key: str | None,
        log_limit: int,
    ) -> None:
        self.server = server
        self.dialects = tuple(dialects)
        names = [d.name for d in self.dialects]
        for name in names:
            if names.count(name) > 1:
                raise DialectError(name, "two dialects of one server share this name")
        self._fallback = self.dialects[0]
        self._api_key = api_key
        entries = [(route, d) for d in self.dialects for route in d.routes()]
        entries += [(route, None) for route in control_routes(self)]
        self.table = RouteTable(entries)
        self._by_corpus = {d.corpus_dialect: d for d in reversed(self.dialects) if d.corpus_dialect}
        self.log: deque[RecordedRequest] = deque(maxlen=log_limit)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.injected: deque[Fault] = deque()
        self._ids = itertools.count(1)

    # ---- one request -------------------------------------------------------------------------

    def handle(self, request: Request) -> Result:
        """The reply (or an awaitable of it) for one request."""
        match = self.table.match(request.method, request.path, request.headers)
        if match is not None and match.owner is None:  # the server's own control routes
            return self._call(match, request, RecordedRequest(method="", path=""), None)
        record = log_entry(
            request.method, request.path, request.query, request.headers, request.body
        )
        with self.lock:
            self.log.append(record)
        if match is not None:
            dialect = match.owner or self._fallback
            _hide_credential(record, dialect.credential(request.headers))
        else:
            dialect = self.table.owner_for_path(request.path) or self._fallback
            for candidate in self.dialects:  # any dialect's key is accepted here: hide them all
                _hide_credential(record, candidate.credential(request.headers))
        recorder = self.server.recorder
        if recorder is not None:
            chat = match is not None and match.route.chat
            return recorder.forward(request, dialect if chat else None)
        if self._api_key is not None and not self._authorized(request, match):
            return dialect.auth_error(request.headers)
        try:
            fault = self._fault_for(request)
        except FaultSyntaxError as exc:
            return dialect.error(400, f"x-atoll-fault: {exc}")
        replay = request.headers.get("x-atoll-replay")
        if replay is not None:
            result = self._replay(replay, dialect)
        elif match is None:
            result = dialect.error(404, f"no route for {request.method} {request.path}")
        else:
            result = self._call(match, request, record, fault)
        if fault is None:
            return result
        if isinstance(result, Reply):
            return apply_fault(result, fault, dialect)
        return _then_fault(result, fault, dialect)

    def _authorized(self, request: Request, match: Match | None) -> bool:
        # A routed request must carry the key in its own dialect's header; an unrouted one
        # (a replay on any path, or a 404) may use any dialect's.
        expected = (self._api_key or "").encode()
        candidates = self.dialects if match is None or match.owner is None else (match.owner,)
        for dialect in candidates:
            key = dialect.credential(request.headers)
            if key is not None and hmac.compare_digest(key.encode(), expected):
                return True
        return False

    def _fault_for(self, request: Request) -> Fault | None:
        spec = request.headers.get("x-atoll-fault")
        if spec is not None:
            return Fault.parse(spec)
        if self.injected:
            with self.lock:
                if self.injected:
                    return self.injected.popleft()
        return None

    def _replay(self, name: str, dialect: ServerDialect) -> Reply:
        case = self.server.cases.get(name)
        if case is None:
            return dialect.error(404, f"x-atoll-replay: no case named {name!r}")
        return case.reply(self._case_dialect(case, dialect))

    def _call(
        self, match: Match, request: Request, record: RecordedRequest, fault: Fault | None
    ) -> Result:
        dialect = match.owner or self._fallback
        exchange = Exchange(self, request, record, match.params, dialect, fault)
        try:
            result = match.route.handler(exchange)
        except RequestError as exc:
            return dialect.error(exc.status, exc.message, exc.error_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return dialect.error(400, f"invalid request body: {exc}")
        if isinstance(result, Reply):
            return result
        return _guarded(result, dialect)

    # ---- services for handlers (through Exchange) ----------------------------------------------

    def answer(self, exchange: Exchange, chat: ChatInput) -> Reply:
        """Answer a chat request with its model: see :meth:`Exchange.answer`."""
        dialect = exchange.dialect
        exchange.log_model(chat.model)
        model = self.lookup(chat.model)
        if model is None:
            return dialect.error(404, f"The model `{chat.model}` does not exist")
        self.count(chat.model)
        fault = exchange.fault
        if fault is not None and fault.is_error:
            return Reply(200, JSON)  # replaced by the fault's error; the model is not consulted
        if isinstance(model, Case):
            return model.reply(self._case_dialect(model, dialect))
        if isinstance(model, Replay):
            case = model.pick(exchange.body)
            return case.reply(self._case_dialect(case, dialect))
        try:
            turn = model(chat)
        except RequestError as exc:
            return dialect.error(exc.status, exc.message, exc.error_type)
        except AtollTestingError as exc:
            return dialect.error(500, f"atoll_testing: {exc}")
        if chat.stream:
            reply = dialect.render_stream(turn, chat, exchange)
        else:
            reply = dialect.render(turn, chat, exchange)
        if fault is None and turn.fault is not None:
            return apply_fault(reply, Fault.parse(turn.fault), dialect)
        return reply

    def lookup(self, name: str) -> Model | Case | None:
        """The model answering ``name``: added models, then cases, then the built-ins."""
        found = self.server.models.get(name)
        if found is not None:
            return found
        case = self.server.cases.get(name)
        if case is not None:
            return case
        if name == "echo":
            return echo
        match = _STREAM_N.match(name)
        return stream_model(int(match.group(1))) if match else None

    def model_names(self) -> list[str]:
        """Models to list: the built-ins, added models, cases."""
        return ["echo", "stream-200", *sorted(self.server.models), *sorted(self.server.cases)]

    def count(self, name: str) -> None:
        """Count a request for a model."""
        with self.lock:
            self.counts[name] += 1

    def next_number(self) -> int:
        """A response number unique on this server."""
        return next(self._ids)

    def _case_dialect(self, case: Case, fallback: ServerDialect) -> ServerDialect:
        return self._by_corpus.get(case.dialect, fallback)

    # ---- control ---------------------------------------------------------------------------

    def dialect_names(self) -> list[str]:
        """Names of the dialects served."""
        return [d.name for d in self.dialects]

    def inject(self, fault: Fault, times: int) -> None:
        """Queue a fault for the next ``times`` requests."""
        with self.lock:
            self.injected.extend([fault] * times)

    def clear_injected(self) -> int:
        """Drop queued faults; returns how many there were."""
        with self.lock:
            count = len(self.injected)
            self.injected.clear()
        return count


def _hide_credential(record: RecordedRequest, presented: str | None) -> None:
    """Redact any logged header carrying the dialect's credential, whatever its name."""
    if not presented:
        return
    for name, value in record.headers.items():
        if presented in value:
            record.headers[name] = _REDACTED


async def _guarded(pending: Awaitable[Reply], dialect: ServerDialect) -> Reply:
    """An async handler's reply, with the errors a sync handler may raise answered alike."""
    try:
        return await pending
    except RequestError as exc:
        return dialect.error(exc.status, exc.message, exc.error_type)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return dialect.error(400, f"invalid request body: {exc}")


async def _then_fault(pending: Awaitable[Reply], fault: Fault, dialect: ServerDialect) -> Reply:
    return apply_fault(await pending, fault, dialect)
