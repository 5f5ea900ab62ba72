"""Every task has a queue that the workers consume, and the app is set for reliability."""

from __future__ import annotations

from ma5zani.celery import TASK_ROUTES, Queue, app


def test_every_project_task_is_routed_to_a_declared_queue():
    app.loader.import_default_modules()
    apps = {"sales", "sellers", "conversations", "learning", "channels_app"}
    project_tasks = {name for name in app.tasks if name.split(".")[0] in apps}
    assert project_tasks == set(TASK_ROUTES)
    consumed = {queue.name for queue in app.conf.task_queues}
    assert consumed == {queue.value for queue in Queue}
    for name in project_tasks:
        assert app.amqp.router.route({}, name)["queue"].name in consumed


def test_tasks_are_acknowledged_late_and_requeued_when_their_worker_is_lost():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_a_task_sent_in_a_seller_schema_carries_it_and_runs_in_it(shop_a, monkeypatch):
    from celery import Celery

    from sales.tasks import catalog_import_task

    sent: list[dict] = []

    def capture(self, name, args=None, kwargs=None, **options):
        sent.append({"name": name, "args": args, "headers": options.get("headers"), "queue": options.get("queue")})

    monkeypatch.setattr(Celery, "send_task", capture)
    with shop_a.schema():
        catalog_import_task.delay(42)
    assert sent[0]["headers"]["_schema_name"] == "s_alpha"
    assert sent[0]["args"] == [42] or sent[0]["args"] == (42,)

    # Run in the worker's way (eagerly, with the same headers): it looks in that schema.
    result = catalog_import_task.apply(args=[999_999], headers={"_schema_name": "s_alpha"})
    assert result.successful() and result.result is None  # no such import in s_alpha: returns quietly


def test_the_broker_channel_shares_one_client_and_still_carries_messages():
    """kombu's Redis transport with one client per pool: messages go through, in order, and the
    channel keeps one client instead of making one per command."""
    import uuid

    from kombu import Exchange
    from kombu import Queue as KombuQueue

    from ma5zani.broker import Channel

    name = f"test-broker-{uuid.uuid4().hex[:8]}"
    queue = KombuQueue(name, Exchange(name, type="direct"), routing_key=name)
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        with connection.Producer() as producer:
            for number in range(3):
                producer.publish({"n": number}, exchange=queue.exchange, routing_key=name, declare=[queue])
        assert channel._create_client() is channel._create_client()
        received = []
        with connection.SimpleQueue(queue) as simple:
            for _ in range(3):
                message = simple.get(timeout=5)
                received.append(message.payload["n"])
                message.ack()
        assert received == [0, 1, 2]
        queue(channel).delete()
