"""One error root: every public exception of every package is an ``AtollError``, reports its
public module, and pickles with its fields (errors cross process and Ray boundaries)."""

from __future__ import annotations

import importlib
import inspect
import pickle
import types
from typing import Any

import pytest
from atoll_wire import AtollError, HttpRequest

PACKAGES = [
    "atoll_wire",
    "atoll_generic",
    "atoll_registry",
    "atoll_httpx",
    "atoll_curl",
    "atoll_dialects",
    "atoll_tools",
    "atoll_agents",
    "atoll_testing",
    "atoll_realtime",
    "atoll",
]


def _public_errors() -> list[tuple[str, type[BaseException]]]:
    found: dict[type[BaseException], str] = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) and issubclass(value, BaseException):
                found.setdefault(value, package)
    return sorted(((p, c) for c, p in found.items()), key=lambda pc: (pc[0], pc[1].__name__))


ERRORS = _public_errors()


def _sample(annotation: Any, name: str) -> Any:
    """A value of the annotated type, for building an error whose signature has no default."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    for marker, value in (
        ("HttpRequest", HttpRequest("POST", "http://127.0.0.1:9/v1/x")),
        ("Mapping", {"k": "v"}),
        ("dict", {"k": "v"}),
        ("Sequence", ["a", "b"]),
        ("list", ["a", "b"]),
        ("tuple", ("a", "b")),
        ("float", 1.5),
        ("int", 3),
        ("bool", True),
        ("str", f"{name}-value"),
    ):
        if marker in text:
            return value
    return None


def _special(cls: type[BaseException]) -> BaseException | None:
    """Errors whose constructor takes another error or a result: built by hand."""
    if cls.__module__ == "atoll_agents" and cls.__name__ == "OutputValidationError":
        import atoll_tools

        issue = atoll_tools.ValidationIssue(path="n", message="not an int")
        last = atoll_tools.OutputValidationError("Answer", [issue], '{"n": "x"}')
        return cls(last, ['{"n": "x"}'])  # pyright: ignore[reportCallIssue]
    return None


def _instance(cls: type[BaseException]) -> BaseException:
    special = _special(cls)
    if special is not None:
        return special
    signature = inspect.signature(cls.__init__)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in list(signature.parameters.values())[1:]:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is not parameter.empty:
            continue
        value = _sample(parameter.annotation, parameter.name)
        if parameter.kind is parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
        else:
            args.append(value)
    return cls(*args, **kwargs)


def _comparable(error: BaseException) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in vars(error).items():
        if isinstance(value, types.FunctionType | types.MethodType):
            continue
        fields[key] = (
            repr(value) if not isinstance(value, str | int | float | type(None)) else value
        )
    return fields


def test_every_package_exports_errors_and_the_root() -> None:
    for package in PACKAGES:
        module = importlib.import_module(package)
        if any(p == package for p, _ in ERRORS):
            assert getattr(module, "AtollError", None) is AtollError, package


@pytest.mark.parametrize(("package", "cls"), ERRORS, ids=[c.__name__ for _, c in ERRORS])
def test_error_is_rooted_public_and_pickles_with_its_fields(
    package: str, cls: type[BaseException]
) -> None:
    assert issubclass(cls, AtollError), f"{package}.{cls.__name__} is not an AtollError"
    home = cls.__module__
    assert not any(part.startswith("_") for part in home.split(".")), (
        f"{cls.__name__} shows the private module {home}"
    )
    assert getattr(importlib.import_module(home), cls.__name__) is cls
    error = _instance(cls)
    error.add_note("a note that must survive")
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is cls
    assert str(restored) == str(error)
    assert restored.args == error.args
    assert _comparable(restored) == _comparable(error)
    assert getattr(restored, "__notes__", None) == ["a note that must survive"]
