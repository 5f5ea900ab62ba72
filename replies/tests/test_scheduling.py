"""Who goes next: a cap per seller, sellers in turn, one waiting reply per conversation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from replies.scheduling import FairQueue, Job


def job(schema: str, conversation: int, inbound: int, entry: str = "") -> Job:
    return Job(schema, conversation, inbound, [entry or f"{schema}-{conversation}-{inbound}"])


def test_one_sellers_flood_does_not_hold_back_another_seller():
    queue = FairQueue(per_seller=3)
    for number in range(100):
        queue.put(job("flood", number, number))
    queue.put(job("quiet", 1, 1))
    started = [queue.take() for _ in range(4)]
    assert [j.schema for j in started if j] == ["flood", "quiet", "flood", "flood"]
    assert queue.take() is None  # the flood is at its cap, the quiet seller has nothing left
    queue.done("flood")
    nxt = queue.take()
    assert nxt is not None and (nxt.schema, nxt.conversation_id) == ("flood", 3)  # arrival order kept


def test_a_newer_message_replaces_the_waiting_reply_and_keeps_its_entries():
    queue = FairQueue(per_seller=1)
    queue.put(job("s", 7, 10, "e1"))
    replaced = queue.put(job("s", 7, 11, "e2"))
    assert replaced is not None and replaced.inbound_id == 10
    late = queue.put(job("s", 7, 9, "e0"))  # an older message read late: nothing new to answer
    assert late is not None and late.inbound_id == 9
    assert len(queue) == 1
    taken = queue.take()
    assert taken is not None and taken.inbound_id == 11
    assert taken.entry_ids == ["e1", "e2", "e0"]  # acknowledged together when it ends


def test_discard_forgets_a_waiting_reply():
    queue = FairQueue(per_seller=2)
    queue.put(job("s", 1, 1))
    queue.put(job("s", 2, 2))
    assert queue.discard(("s", 1)) is not None
    taken = queue.take()
    assert taken is not None and taken.conversation_id == 2
    assert queue.take() is None and len(queue) == 0


@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.integers(0, 20), st.integers(1, 1000)), max_size=200),
    st.integers(1, 5),
)
def test_caps_hold_every_job_starts_once_and_sellers_alternate(puts, cap):
    queue = FairQueue(per_seller=cap)
    newest: dict[tuple[str, int], int] = {}
    for schema, conversation, inbound in puts:
        queue.put(job(schema, conversation, inbound))
        newest[(schema, conversation)] = max(newest.get((schema, conversation), 0), inbound)
    started: list[Job] = []
    running: dict[str, int] = {}
    while True:
        taken = queue.take()
        if taken is None:
            if not any(running.values()):
                break
            # End one reply of the seller with the most running, as replies finish.
            schema = max(running, key=lambda s: running[s])
            running[schema] -= 1
            queue.done(schema)
            continue
        running[taken.schema] = running.get(taken.schema, 0) + 1
        assert running[taken.schema] <= cap
        started.append(taken)
    assert len(queue) == 0
    assert {(j.schema, j.conversation_id): j.inbound_id for j in started} == newest  # the newest message each
    assert len(started) == len(newest)  # each conversation once
