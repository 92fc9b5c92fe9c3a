"""The route table: patterns with parameters, end-of-path matching, most specific first."""

from __future__ import annotations

import pytest
from atoll_testing import DialectError, Exchange, Reply, Route
from atoll_testing._routes import RouteTable
from hypothesis import given
from hypothesis import strategies as st


class _Owner:
    """Stands in for a dialect: the table only reads ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name


def _answer(exchange: Exchange) -> Reply:
    return Reply(200, b"text/plain", b"")


def _table(*entries: tuple[str, str, str, str | None]) -> tuple[RouteTable, dict[str, _Owner]]:
    owners: dict[str, _Owner] = {}
    rows = []
    for owner, method, pattern, header in entries:
        who = owners.setdefault(owner, _Owner(owner))
        rows.append((Route(method, pattern, _answer, header=header), who))
    return RouteTable(rows), owners  # type: ignore[arg-type]  # owners only need a name


def _who(table: RouteTable, method: str, path: str, headers: dict[str, str] | None = None) -> str:
    match = table.match(method, path, headers or {})
    return "-" if match is None else match.owner.name  # type: ignore[union-attr]


SHAPES = (
    ("openai", "POST", "/chat/completions", None),
    ("openai", "GET", "/models", None),
    ("openai", "GET", "/models/{model}", None),
    ("anthropic", "POST", "/messages", None),
    ("anthropic", "POST", "/messages/batches", None),
    ("anthropic", "GET", "/models", "anthropic-version"),
    ("azure", "POST", "/openai/deployments/{deployment}/chat/completions", None),
    ("gemini", "POST", "/models/{model}:generateContent", None),
    ("gemini", "POST", "/models/{model}:streamGenerateContent", None),
    ("gemini", "GET", "/v1beta/models/{model}", None),
    ("vertex", "POST", "/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:rawPredict", None),
    ("responses", "POST", "/responses", None),
    ("batch", "POST", "/files", None),
    ("batch", "GET", "/batches/{batch_id}", None),
)


@pytest.mark.parametrize(
    ("method", "path", "headers", "owner"),
    [
        ("POST", "/v1/chat/completions", {}, "openai"),
        ("POST", "/chat/completions", {}, "openai"),
        ("POST", "/v1/v1/chat/completions", {}, "openai"),  # a doubled base-URL prefix
        ("POST", "/v1/xchat/completions", {}, "-"),  # only whole segments match
        ("POST", "/v1/chat/completions/more", {}, "-"),
        ("GET", "/v1/chat/completions", {}, "-"),  # the method must match too
        ("POST", "/openai/deployments/gpt4o-eu/chat/completions", {}, "azure"),
        ("POST", "/v1/messages", {}, "anthropic"),
        ("POST", "/v1/messages/batches", {}, "anthropic"),
        ("GET", "/v1/models", {}, "openai"),
        ("GET", "/v1/models", {"anthropic-version": "2023-06-01"}, "anthropic"),
        ("GET", "/v1/models/gpt-4o", {}, "openai"),
        ("GET", "/v1beta/models/gemini-2.0-flash", {}, "gemini"),
        ("POST", "/v1beta/models/gemini-2.0-flash:generateContent", {}, "gemini"),
        ("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", {}, "gemini"),
        (
            "POST",
            "/v1/projects/p1/locations/us/publishers/anthropic/models/c:rawPredict",
            {},
            "vertex",
        ),
        ("POST", "/v1/responses", {}, "responses"),
        ("POST", "/v1/files", {}, "batch"),
        ("GET", "/v1/batches/batch_123", {}, "batch"),
    ],
)
def test_most_specific_route_wins(
    method: str, path: str, headers: dict[str, str], owner: str
) -> None:
    table, _ = _table(*SHAPES)
    assert _who(table, method, path, headers) == owner
    assert _who(table, method, path, headers) == owner  # second time from the cache


def test_parameters_are_captured() -> None:
    table, _ = _table(*SHAPES)
    vertex = table.match(
        "POST",
        "/v1/projects/p1/locations/us-east5/publishers/anthropic/models/claude:rawPredict",
        {},
    )
    gemini = table.match("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent", {})
    azure = table.match("POST", "/openai/deployments/eu-4o/chat/completions", {})
    assert vertex is not None and dict(vertex.params) == {
        "p": "p1",
        "l": "us-east5",
        "pub": "anthropic",
        "m": "claude",
    }
    assert gemini is not None and dict(gemini.params) == {"model": "gemini-2.0-flash"}
    assert azure is not None and dict(azure.params) == {"deployment": "eu-4o"}


def test_owner_for_path_ignores_the_method() -> None:
    table, owners = _table(*SHAPES)
    assert table.owner_for_path("/v1/messages") is owners["anthropic"]  # type: ignore[comparison-overlap]
    assert table.owner_for_path("/nowhere") is None


@pytest.mark.parametrize(
    ("method", "pattern", "header", "reason"),
    [
        ("post", "/x", None, "upper-case"),
        ("POST", "x", None, "starts with '/'"),
        ("POST", "/x?y=1", None, "no query string"),
        ("POST", "/a/{1x}", None, "identifiers"),
        ("POST", "/a/{m}/b/{m}", None, "appears twice"),
        ("GET", "/x", "Anthropic-Version", "lower case"),
    ],
)
def test_malformed_routes_are_refused(
    method: str, pattern: str, header: str | None, reason: str
) -> None:
    with pytest.raises(DialectError, match=reason):
        Route(method, pattern, _answer, header=header)


def test_two_owners_of_one_route_are_refused() -> None:
    with pytest.raises(DialectError, match="already answered by first"):
        _table(("first", "GET", "/models/{id}", None), ("second", "GET", "/models/{name}", None))


def test_the_cache_stays_correct_past_its_limit() -> None:
    table, _ = _table(*SHAPES)
    for n in range(5000):
        match = table.match("GET", f"/v1/batches/b{n}", {})
        assert match is not None and match.params["batch_id"] == f"b{n}"


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=8)
_value = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1, max_size=12)


@given(
    literals=st.lists(_segment, min_size=1, max_size=4),
    values=st.lists(_value, min_size=1, max_size=3),
    prefix=st.lists(_segment, max_size=3),
    suffix=st.sampled_from(["", ":generateContent", ":rawPredict"]),
)
def test_a_pattern_matches_its_own_paths(
    literals: list[str], values: list[str], prefix: list[str], suffix: str
) -> None:
    pattern = "".join(f"/{lit}" for lit in literals)
    path = "".join(f"/{p}" for p in prefix) + pattern
    for index, value in enumerate(values):
        pattern += f"/{{p{index}}}"
        path += f"/{value}"
    pattern += suffix
    path += suffix
    table, _ = _table(("x", "POST", pattern, None))
    match = table.match("POST", path, {})
    assert match is not None
    assert dict(match.params) == {f"p{i}": v for i, v in enumerate(values)}
    assert table.match("POST", path + "/", {}) is None
    assert table.match("GET", path, {}) is None
