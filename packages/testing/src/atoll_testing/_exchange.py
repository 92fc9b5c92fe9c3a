"""``Exchange``: one request being answered, as a route handler sees it."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from ._faults import Fault
from ._http import Request
from ._inputs import ChatInput
from ._log import RecordedRequest
from ._reply import Reply

if TYPE_CHECKING:
    from ._dialect import ServerDialect
    from ._dispatch import Dispatcher
    from ._server import FakeLLMServer


class Exchange:
    """What a route handler gets: the request, its path parameters and the server's services.

    Handlers run on the server's own thread, one at a time; they must not block.

    Attributes:
        params: Path parameters captured by the route pattern (``{model}`` -> ``"gpt-4o"``).
        dialect: The dialect that owns the matched route.
        fault: The fault applied to this request (header, injected), or None. The server
            applies it to the reply; handlers rarely need to look.
    """

    __slots__ = (
        "_created",
        "_dispatcher",
        "_number",
        "_record",
        "_request",
        "dialect",
        "fault",
        "params",
    )

    def __init__(
        self,
        dispatcher: Dispatcher,
        request: Request,
        record: RecordedRequest,
        params: Mapping[str, str],
        dialect: ServerDialect,
        fault: Fault | None,
    ) -> None:
        self._dispatcher = dispatcher
        self._request = request
        self._record = record
        self._number = 0
        self._created = 0
        self.params = params
        self.dialect = dialect
        self.fault = fault

    # ---- the request -----------------------------------------------------------------------

    @property
    def method(self) -> str:
        """HTTP method."""
        return self._request.method

    @property
    def path(self) -> str:
        """Request path, without the query string."""
        return self._request.path

    @property
    def query(self) -> str:
        """The raw query string ("" when none)."""
        return self._request.query

    @property
    def query_params(self) -> dict[str, str]:
        """Query parameters decoded (the last value wins when one repeats)."""
        return dict(parse_qsl(self._request.query, keep_blank_values=True))

    @property
    def headers(self) -> dict[str, str]:
        """Request headers, names lower-cased (secrets NOT redacted: do not log them)."""
        return self._request.headers

    @property
    def body(self) -> bytes:
        """The raw request body."""
        return self._request.body

    @property
    def server(self) -> FakeLLMServer:
        """The server answering (its ``models``, ``cases``, ``embedding_dimensions``)."""
        return self._dispatcher.server

    # ---- ids -------------------------------------------------------------------------------

    @property
    def number(self) -> int:
        """A number unique to this response on this server, for response ids."""
        if not self._number:
            self._number = self._dispatcher.next_number()
        return self._number

    @property
    def created(self) -> int:
        """Unix time of the response, for ``created`` fields."""
        if not self._created:
            self._created = int(time.time())
        return self._created

    # ---- services --------------------------------------------------------------------------

    def answer(self, chat: ChatInput) -> Reply:
        """Answer a chat request with the model it names, rendered by :attr:`dialect`.

        Looks the model up (scripts, callables, cases, ``echo``, ``stream-N``), counts the
        request, serves recorded cases byte for byte, and renders a scripted turn whole or as
        a stream (``chat.stream``). Unknown models get a 404, an exhausted script a 500.
        """
        return self._dispatcher.answer(self, chat)

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """An error response in :attr:`dialect`'s shape."""
        return self.dialect.error(status, message, error_type)

    def log_model(self, name: str) -> None:
        """Record the model this request is for in the request log (``RecordedRequest.model``)."""
        self._record.model = name

    def count_model(self, name: str) -> None:
        """Count one request for ``name`` in ``server.counts`` (and log the model)."""
        self._record.model = name
        self._dispatcher.count(name)

    def has_model(self, name: str) -> bool:
        """Whether the server answers model ``name``."""
        return self._dispatcher.lookup(name) is not None

    def model_names(self) -> list[str]:
        """The models to list in a models endpoint, built-ins first."""
        return self._dispatcher.model_names()
