"""Every public error is an AtollError, pickles with its fields and names its public module."""

from __future__ import annotations

import pickle

import atoll_testing
import pytest
from atoll_wire import AtollError

SAMPLES: dict[str, AtollError] = {
    "AtollTestingError": atoll_testing.AtollTestingError("boom"),
    "CaseFormatError": atoll_testing.CaseFormatError("a.json", "not a case"),
    "DialectError": atoll_testing.DialectError("toy", "no name"),
    "FaultSyntaxError": atoll_testing.FaultSyntaxError("x=1", "x=1", "unknown"),
    "RequestError": atoll_testing.RequestError(409, "busy", "toy_busy"),
    "ScriptError": atoll_testing.ScriptError("<code>", "empty"),
    "ServerStartError": atoll_testing.ServerStartError("in use", host="127.0.0.1", port=1),
}


def test_every_public_error_has_a_sample() -> None:
    errors = {
        name
        for name in atoll_testing.__all__
        if isinstance(getattr(atoll_testing, name), type)
        and issubclass(getattr(atoll_testing, name), BaseException)
        and name != "AtollError"  # the stack's root, re-exported (tests/test_errors.py)
    }
    assert errors == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_error_pickles_with_its_fields(name: str) -> None:
    error = SAMPLES[name]
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert vars(again) == vars(error) and str(again) == str(error)
    assert isinstance(again, AtollError) and isinstance(again, atoll_testing.AtollTestingError)
    assert type(error).__module__ == "atoll_testing"
