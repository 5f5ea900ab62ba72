"""Fixtures of the OpenRouter engine's tests: the loopback chat-completions server and a widget
conversation of shop A with the test catalog."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sales.tests.chat_server import ChatServer
from sales.tests.test_sales_conversations import Chat, prepare


@pytest.fixture
def server(settings) -> Iterator[ChatServer]:
    chat_server = ChatServer()
    settings.OPENROUTER_BASE_URL = chat_server.base_url
    settings.OPENROUTER_API_KEY = "sk-or-platform-test"
    settings.OPENROUTER_MAX_RETRIES = 1
    settings.OPENROUTER_TIMEOUT_SECONDS = 2.0
    settings.ENGINE_BREAKER_FAILURES = 3
    yield chat_server
    chat_server.stop()
    assert not chat_server.failures, "\n".join(chat_server.failures)  # a scripted check that failed


@pytest.fixture
def chat(shop_a, queued, django_capture_on_commit_callbacks) -> Iterator[Chat]:
    with shop_a.schema():
        prepare(shop_a)
        yield Chat(shop_a, queued, django_capture_on_commit_callbacks)
