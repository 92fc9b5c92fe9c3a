"""Every package's ``__all__`` is a sorted tuple and matches the names it really makes public."""

from __future__ import annotations

import importlib
import types

import pytest

PACKAGES = [
    "atoll",
    "atoll_agents",
    "atoll_curl",
    "atoll_dialects",
    "atoll_generic",
    "atoll_httpx",
    "atoll_local",
    "atoll_openai_sdk",
    "atoll_ray",
    "atoll_realtime",
    "atoll_registry",
    "atoll_testing",
    "atoll_tools",
    "atoll_wire",
]


def _public_names(module: types.ModuleType) -> set[str]:
    names: set[str] = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if name == "annotations":  # `from __future__ import annotations`
            continue
        names.add(name)
    return names


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_a_sorted_tuple(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert isinstance(exported, tuple), f"{name}.__all__ must be a tuple"
    assert list(exported) == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"


@pytest.mark.parametrize("name", PACKAGES)
def test_all_matches_public_names(name: str) -> None:
    module = importlib.import_module(name)
    public = _public_names(module)
    exported = set(module.__all__)
    # A package may load a heavy name lazily through a module __getattr__ (PEP 562): it is
    # exported but not yet in the module's namespace. Everything exported must resolve.
    lazy = {attr for attr in exported - public if "__getattr__" in vars(module)}
    assert exported == public | lazy, (
        f"{name}: exported but missing {sorted(exported - public - lazy)}; "
        f"public but not exported {sorted(public - exported)}"
    )
    for attr in exported:
        assert getattr(module, attr) is not None


@pytest.mark.parametrize("name", PACKAGES)
def test_version_is_declared(name: str) -> None:
    module = importlib.import_module(name)
    assert isinstance(module.__version__, str)
