"""The route table: method + path pattern (with ``{name}`` parameters) -> handler.

A pattern matches the END of a request path, at a segment boundary: ``/chat/completions``
answers ``/v1/chat/completions``, ``/openai/v1/chat/completions`` and a doubled
``/v1/v1/chat/completions`` alike, which is what clients configured with different base URLs
send. When several routes match, the most specific wins: more segments first, then more literal
characters, then a route that requires a header. So Azure's
``/openai/deployments/{deployment}/chat/completions`` beats ``/chat/completions``, and
``GET /models`` with ``header="anthropic-version"`` beats the plain one.

A ``{name}`` parameter matches within one segment and may share it with literal text, as in
Gemini's ``/models/{model}:generateContent``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from ._exceptions import DialectError

if TYPE_CHECKING:
    from ._dialect import ServerDialect
    from ._exchange import Exchange
    from ._reply import Reply

Handler = Callable[["Exchange"], "Reply | Awaitable[Reply]"]
_PARAM = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METHOD = re.compile(r"^[A-Z]+$")
_CACHE_LIMIT = 4096  # distinct (method, path) pairs remembered; cleared whole when full


@dataclass(frozen=True)
class Route:
    """One endpoint a dialect answers.

    Attributes:
        method: HTTP method, upper case (``POST``, ``GET``, ``DELETE``, ...).
        pattern: Path pattern starting with ``/``; ``{name}`` captures part of one segment
            into ``Exchange.params``. It matches the end of the request path.
        handler: Called with the :class:`Exchange`; returns a :class:`Reply` (or an awaitable
            of one). Usually a bound method of the dialect.
        header: Match only requests carrying this header (lower case), e.g.
            ``anthropic-version`` to tell two dialects' ``GET /v1/models`` apart.
        chat: A chat endpoint: the recorder files its exchanges under the dialect's
            ``corpus_dialect`` with an ``expect`` block worked out by the dialect.
    """

    method: str
    pattern: str
    handler: Handler
    header: str | None = None
    chat: bool = False

    def __post_init__(self) -> None:
        if not _METHOD.match(self.method):
            raise DialectError(self.pattern, f"method {self.method!r} must be upper-case letters")
        if not self.pattern.startswith("/") or "?" in self.pattern:
            raise DialectError(self.pattern, "a pattern starts with '/' and has no query string")
        names = _PARAM.findall(self.pattern)
        bad = [n for n in names if not _NAME.match(n)]
        if bad:
            raise DialectError(self.pattern, f"parameter names must be identifiers, got {bad}")
        if len(set(names)) != len(names):
            raise DialectError(self.pattern, "a parameter name appears twice")
        if self.header is not None and self.header != self.header.lower():
            raise DialectError(self.pattern, f"header {self.header!r} must be lower case")


@dataclass(frozen=True, slots=True)
class Match:
    """A matched route: the route, who owns it, and the captured path parameters."""

    route: Route
    owner: ServerDialect | None  # None: the server's own control routes
    params: Mapping[str, str] = field(default_factory=dict[str, str])


@dataclass(frozen=True, slots=True)
class _Entry:
    route: Route
    owner: ServerDialect | None
    regex: re.Pattern[str]
    rank: tuple[int, int, int]


def _compile(pattern: str) -> tuple[re.Pattern[str], tuple[int, int, int]]:
    body: list[str] = []
    pos = 0
    for found in _PARAM.finditer(pattern):
        body.append(re.escape(pattern[pos : found.start()]))
        body.append(f"(?P<{found.group(1)}>[^/]+?)")
        pos = found.end()
    body.append(re.escape(pattern[pos:]))
    literal = len(_PARAM.sub("", pattern))
    segments = pattern.rstrip("/").count("/")
    # Any prefix (a base URL's path) is allowed before the pattern; the pattern's own leading
    # slash keeps the match on a segment boundary.
    return re.compile("(?:/.*)?" + "".join(body)), (segments, literal, 0)


class RouteTable:
    """Routes of several owners, matched most-specific first, with a cache of recent paths."""

    def __init__(self, entries: Iterable[tuple[Route, ServerDialect | None]]) -> None:
        compiled: list[_Entry] = []
        seen: dict[tuple[str, str, str | None], ServerDialect | None] = {}
        for route, owner in entries:
            key = (route.method, _PARAM.sub("{}", route.pattern), route.header)
            if key in seen:
                raise DialectError(
                    _owner_name(owner),
                    f"route {route.method} {route.pattern} is already answered by "
                    f"{_owner_name(seen[key])}",
                )
            seen[key] = owner
            regex, (segments, literal, _) = _compile(route.pattern)
            rank = (segments, literal, 1 if route.header is not None else 0)
            compiled.append(_Entry(route, owner, regex, rank))
        # Stable sort: equal ranks keep the order the owners were given in.
        self._entries = sorted(compiled, key=lambda e: e.rank, reverse=True)
        # (method, path) -> the matches for it, most specific first, built once per path.
        self._cache: dict[tuple[str, str], tuple[Match, ...]] = {}

    @property
    def routes(self) -> list[tuple[Route, ServerDialect | None]]:
        """Every route with its owner, in matching order."""
        return [(e.route, e.owner) for e in self._entries]

    def match(self, method: str, path: str, headers: Mapping[str, str]) -> Match | None:
        """The route answering a request, or None."""
        candidates = self._cache.get((method, path))
        if candidates is None:
            candidates = self._candidates(method, path)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[(method, path)] = candidates
        for match in candidates:
            header = match.route.header
            if header is None or header in headers:
                return match
        return None

    def owner_for_path(self, path: str) -> ServerDialect | None:
        """The dialect owning the most specific route for ``path`` with any method, if any.

        Used to shape a 404 for a known path asked with the wrong method.
        """
        for entry in self._entries:
            if entry.owner is not None and entry.regex.fullmatch(path) is not None:
                return entry.owner
        return None

    def _candidates(self, method: str, path: str) -> tuple[Match, ...]:
        found: list[Match] = []
        for entry in self._entries:
            if entry.route.method != method:
                continue
            hit = entry.regex.fullmatch(path)
            if hit is not None:
                found.append(Match(entry.route, entry.owner, MappingProxyType(hit.groupdict())))
        return tuple(found)


def _owner_name(owner: ServerDialect | None) -> str:
    return "the server" if owner is None else owner.name
