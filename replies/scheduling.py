"""Which reply starts next: one at a time per conversation, a cap per seller, turns between sellers.

`FairQueue` holds the replies a runner has read and not started. A seller may have at most
`per_seller` replies in progress; among the sellers with a reply waiting and room under their
cap, the next reply is taken from the seller who started one least recently (round robin), so a
seller with a thousand customers writing at once never holds back a seller with one. A
conversation has at most one reply waiting: a newer message of the same conversation replaces
the waiting one (the burst is answered once, for its newest message).

Pure bookkeeping, no I/O: the runner (`replies.runner`) owns the clock and the tasks.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

Key = tuple[str, int]  # (schema, conversation id)


@dataclass
class Job:
    """One conversation to answer for its newest message; `entry_ids` are every stream entry it
    answers (acknowledged together when it ends)."""

    schema: str
    conversation_id: int
    inbound_id: int
    entry_ids: list[str] = field(default_factory=list)
    enqueued_at: float = 0.0
    attempts: int = 0

    @property
    def key(self) -> Key:
        return (self.schema, self.conversation_id)


class FairQueue:
    def __init__(self, per_seller: int) -> None:
        self.per_seller = max(1, per_seller)
        self._waiting: dict[str, deque[Key]] = {}  # seller → conversations in arrival order
        self._jobs: dict[Key, Job] = {}  # the waiting job of each conversation
        self._running: dict[str, int] = {}
        self._turns: OrderedDict[str, None] = OrderedDict()  # sellers, least recently served first

    def __len__(self) -> int:
        return len(self._jobs)

    def waiting(self, key: Key) -> Job | None:
        return self._jobs.get(key)

    def running(self, schema: str) -> int:
        return self._running.get(schema, 0)

    def put(self, job: Job) -> Job | None:
        """Add a job; if its conversation already has one waiting, the newer message wins and the
        two become one (the replaced job is returned, its entries carried over)."""
        old = self._jobs.get(job.key)
        if old is not None:
            if job.inbound_id < old.inbound_id:  # an older message arriving late: the waiting one answers it
                old.entry_ids.extend(job.entry_ids)
                return job
            job.entry_ids = old.entry_ids + job.entry_ids
            job.enqueued_at = min(old.enqueued_at or job.enqueued_at, job.enqueued_at)
            self._jobs[job.key] = job
            return old
        self._jobs[job.key] = job
        self._waiting.setdefault(job.schema, deque()).append(job.key)
        self._turns.setdefault(job.schema, None)
        return None

    def waiting_of(self, schema: str) -> int:
        """How many replies of one seller wait."""
        return len(self._waiting.get(schema, ()))

    def startable(self) -> int:
        """The waiting replies that could start as soon as replies end: at most a cap's worth
        per seller (a flooding seller's backlog beyond that does not count)."""
        return sum(min(len(queue), self.per_seller) for queue in self._waiting.values())

    def discard(self, key: Key) -> Job | None:
        """Forget the waiting job of a conversation (another runner answers it)."""
        job = self._jobs.pop(key, None)
        if job is not None:
            queue = self._waiting.get(key[0])
            if queue is not None and key in queue:
                queue.remove(key)
        return job

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    def take(self) -> Job | None:
        """The next job to start, or None when every waiting seller is at its cap."""
        for schema in list(self._turns):
            queue = self._waiting.get(schema)
            if not queue:
                self._turns.pop(schema, None)
                self._waiting.pop(schema, None)
                continue
            if self._running.get(schema, 0) >= self.per_seller:
                continue
            key = queue.popleft()
            job = self._jobs.pop(key)
            self._running[schema] = self._running.get(schema, 0) + 1
            self._turns.move_to_end(schema)  # the others go first next time
            if not queue:
                self._waiting.pop(schema, None)
                self._turns.pop(schema, None)
            return job
        return None

    def done(self, schema: str) -> None:
        """A job of `schema` taken earlier ended (answered, skipped, failed or cancelled)."""
        left = self._running.get(schema, 0) - 1
        if left > 0:
            self._running[schema] = left
        else:
            self._running.pop(schema, None)
