"""Pile locking discipline: threads and tasks exclude each other through one lock and sessions."""

from __future__ import annotations

import threading
import time

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest
from atoll_generic import Element, Pile, PileBusyError

pytestmark = pytest.mark.anyio


class Item(Element):
    tag: str = ""


async def test_regression_10_thread_session_excludes_async_callers() -> None:
    """Ancestor defect 10: separate sync and async locks did not exclude each other."""
    pile: Pile[Item] = Pile()
    first, second, from_task = Item(tag="t1"), Item(tag="t2"), Item(tag="task")
    entered = threading.Event()

    def thread_session() -> None:
        with pile:
            pile.include(first)
            entered.set()
            time.sleep(0.15)  # a task trying to write now must wait
            pile.include(second)

    async with anyio.create_task_group() as tg:
        tg.start_soon(anyio.to_thread.run_sync, thread_session)
        await anyio.to_thread.run_sync(entered.wait)
        await pile.ainclude(from_task)
    assert [i.tag for i in pile] == ["t1", "t2", "task"]


async def test_regression_10_task_session_excludes_threads() -> None:
    """The other direction: a task's session across awaits blocks a thread's sync call."""
    pile: Pile[Item] = Pile()
    done_in_thread = threading.Event()

    def writer() -> None:
        pile.include(Item(tag="thread"))
        done_in_thread.set()

    async with anyio.create_task_group() as tg:
        async with pile:
            await pile.ainclude(Item(tag="a"))
            tg.start_soon(anyio.to_thread.run_sync, writer)
            await anyio.sleep(0.1)
            assert not done_in_thread.is_set()  # the thread is waiting for the session
            await pile.ainclude(Item(tag="b"))
    assert [i.tag for i in pile] == ["a", "b", "thread"]


async def test_async_with_never_deadlocks_with_its_own_methods() -> None:
    pile: Pile[Item] = Pile([Item(tag="x")])
    with anyio.fail_after(5):
        async with pile:
            await pile.ainclude(Item(tag="y"))
            assert (await pile.aget(0)).tag == "x"
            pile.include(Item(tag="z"))  # sync call from the owner is fine too
            async with pile:  # re-entrant
                assert (await pile.apop()).tag == "z"
                await pile.aexclude(pile[0])
            await pile.aupdate([Item(tag="w")])
            await pile.ainsert(0, Item(tag="v"))
            assert [i.tag for i in await pile.avalues()] == ["v", "y", "w"]
            await pile.aremove(0)
            await pile.aclear()
        assert len(pile) == 0


async def test_other_task_waits_and_sync_call_refuses_to_freeze_the_loop() -> None:
    pile: Pile[Item] = Pile()
    order: list[str] = []
    busy: list[PileBusyError] = []

    async def other() -> None:
        try:
            pile.include(Item(tag="sync-other"))
        except PileBusyError as exc:
            busy.append(exc)
        await pile.ainclude(Item(tag="other"))
        order.append("other")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            async with pile:
                tg.start_soon(other)
                await anyio.sleep(0.05)
                order.append("owner")
                await pile.ainclude(Item(tag="owner"))
    assert order == ["owner", "other"]
    assert [i.tag for i in pile] == ["owner", "other"]
    assert busy and busy[0].operation == "include"


async def test_threads_and_tasks_hammering_one_pile() -> None:
    pile: Pile[Item] = Pile()
    per_worker = 1500
    popped: list[Item] = []
    lock = threading.Lock()

    def thread_worker(name: str) -> None:
        for i in range(per_worker):
            pile.include(Item(tag=f"{name}-{i}"))
            if i % 3 == 0:
                got = pile.pop(0, None)
                if got is not None:
                    with lock:
                        popped.append(got)

    async def task_worker(name: str) -> None:
        for i in range(per_worker):
            await pile.ainclude(Item(tag=f"{name}-{i}"))
            if i % 3 == 0:
                got = await pile.apop(-1, None)
                if got is not None:
                    popped.append(got)
            if i % 50 == 0:
                await anyio.lowlevel.checkpoint()

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for n in range(3):
                tg.start_soon(anyio.to_thread.run_sync, thread_worker, f"th{n}")
            for n in range(3):
                tg.start_soon(task_worker, f"tk{n}")
    remaining = pile.values()
    tags = [i.tag for i in remaining] + [i.tag for i in popped]
    assert len(tags) == 6 * per_worker
    assert len(set(tags)) == len(tags)  # nothing duplicated, nothing lost
    assert len(pile) == len(remaining) == len(set(pile.keys()))


async def test_wait_for_wakes_on_arrivals_from_tasks_and_threads() -> None:
    pile: Pile[Item] = Pile()

    def from_thread() -> None:
        time.sleep(0.05)
        pile.include(Item(tag="thread"))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(anyio.to_thread.run_sync, from_thread)
            await pile.wait_for(1)
            tg.start_soon(pile.ainclude, Item(tag="task"))
            await pile.wait_for(2)
    assert len(pile) == 2


async def test_async_iteration_yields_existing_then_new_items() -> None:
    first = Item(tag="first")
    pile: Pile[Item] = Pile([first])
    seen: list[str] = []

    async def producer() -> None:
        for i in range(3):
            await anyio.sleep(0.01)
            await pile.ainclude(Item(tag=f"new{i}"))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(producer)
            async for item in pile:
                seen.append(item.tag)
                if len(seen) == 4:
                    break
    assert seen == ["first", "new0", "new1", "new2"]
