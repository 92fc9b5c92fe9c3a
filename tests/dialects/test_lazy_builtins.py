"""Built-in dialects, auth schemes and batch jobs that load with their first use.

Each case runs in a fresh interpreter: what `import atoll_dialects` loads is process state.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

LAZY_MODULES = (
    "atoll_dialects._gemini",
    "atoll_dialects._responses",
    "atoll_dialects._google_auth",
    "atoll_dialects._azure_auth",
    "atoll_dialects._batch_client",
    "atoll_wire.gemini",
    "atoll_wire.responses",
)


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_import_loads_none_of_them_yet_lists_every_id() -> None:
    out = run(
        f"""
        import sys
        import atoll_dialects as d
        print([m for m in {LAZY_MODULES!r} if m in sys.modules])
        print("gemini" in d.registered_dialects(), "openai-responses" in d.registered_dialects())
        print(all(s in d.registered_auth_schemes() for s in ("google-oauth", "azure-entra")))
        """
    )
    assert out.splitlines() == ["[]", "True True", "True"]


def test_first_use_loads_and_registers_the_builtin() -> None:
    out = run(
        """
        import os, sys
        os.environ["GEMINI_API_KEY"] = "k"
        from atoll_dialects import Client
        client = Client("gemini/gemini-2.5-flash")
        print(type(client.targets[0].dialect).__name__, "atoll_dialects._gemini" in sys.modules)
        from atoll_dialects import GeminiDialect, Target
        print(isinstance(Target.of(dialect="gemini").dialect, GeminiDialect))
        from atoll_dialects import BatchClient
        print(BatchClient.__name__)
        """
    )
    assert out.splitlines() == ["GeminiDialect True", "True", "BatchClient"]


def test_a_users_choice_is_never_overwritten_by_a_late_builtin_import() -> None:
    out = run(
        """
        from atoll_dialects import (
            OpenAIChatDialect, Target, UnknownDialectError, register_dialect, unregister_dialect,
        )

        class Mine(OpenAIChatDialect):
            name = "gemini"

        try:
            register_dialect(Mine())
        except ValueError as error:
            print("refused:", "built-in" in str(error))
        register_dialect(Mine(), replace=True)
        from atoll_dialects import GeminiDialect  # the built-in module loads, registers nothing
        print(type(Target.of(dialect="gemini").dialect).__name__)
        unregister_dialect("openai-responses")  # before it ever loaded: stays gone
        try:
            Target.of(dialect="openai-responses")
        except UnknownDialectError:
            print("gone")
        """
    )
    assert out.splitlines() == ["refused: True", "Mine", "gone"]


def test_threads_resolving_a_lazy_builtin_at_once_all_get_it() -> None:
    out = run(
        """
        import threading
        from atoll_dialects import Target

        barrier, found, errors = threading.Barrier(16), [], []

        def resolve() -> None:
            barrier.wait()
            try:
                found.append(type(Target.of(dialect="openai-responses").dialect).__name__)
            except Exception as error:
                errors.append(repr(error))

        threads = [threading.Thread(target=resolve) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(sorted(set(found)), len(found), errors)
        """
    )
    assert out == "['OpenAIResponsesDialect'] 16 []"
