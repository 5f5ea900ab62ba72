"""What a delivery leaves for later: attachments fetched from Meta's CDN (and nowhere else),
voice messages transcribed, then answered; the customer's name and picture from the profile API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from channels_app.base import InboundMedia, InboundMessage
from channels_app.meta.tasks import fetch_media_task, fetch_profile_task, media_url_allowed
from channels_app.meta.tests.conftest import PAGE_A, link
from channels_app.whatsapp.tests.test_gateway_inbound import TranscriptionServer
from conversations.models import ChannelIdentity, Message
from conversations.services import ingest

pytestmark = pytest.mark.django_db
PSID = "6897412335561204"


class Cdn:
    """A loopback CDN: /voice.mp4, /photo.jpg, a redirect to an outside host, and a 404."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                if self.path == "/away":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.end_headers()
                    return
                files = {
                    "/voice.mp4": (b"\x00\x00\x00\x18ftypmp42 voice", "audio/mp4"),
                    "/photo.jpg": (b"\xff\xd8jpg", "image/jpeg"),
                }
                if self.path not in files:
                    self.send_response(404)
                    self.end_headers()
                    return
                body, kind = files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def cdn(settings) -> Iterator[Cdn]:
    server = Cdn()
    settings.META_MEDIA_HOSTS = ["fbcdn.net", "127.0.0.1"]
    yield server
    server.server.shutdown()


def stored_with_media(shop, account, url: str, kind: str) -> Message:
    with shop.schema():
        result = ingest(
            InboundMessage(
                channel="messenger",
                channel_account_id=account.pk,
                sender_id=PSID,
                external_id=f"m_{kind}_{url[-12:]}",
                text="",
                timestamp=timezone.now(),
                media=(InboundMedia(kind=kind, url=url, fetch_later=True),),
            )
        )
        return Message.objects.get(pk=result.message_id)


def test_a_voice_message_is_fetched_transcribed_and_then_answered(
    shop_a, meta_settings, cdn, queued, settings, django_capture_on_commit_callbacks
):
    account = link(shop_a, "messenger", PAGE_A)
    transcriber = TranscriptionServer("ch7al l'sac l'k7al?")
    settings.TRANSCRIPTION_BASE_URL = transcriber.base_url
    message = stored_with_media(shop_a, account, cdn.url("/voice.mp4"), "audio")
    assert queued.replies == []
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        assert fetch_media_task.apply(args=(message.pk, cdn.url("/voice.mp4"), "audio")).get() > 0
    with shop_a.schema():
        message.refresh_from_db()
        assert message.transcript == "ch7al l'sac l'k7al?" and message.media.read().startswith(b"\x00\x00\x00\x18ftyp")
    assert queued.replies == [(message.conversation_id, message.pk)]
    assert b'filename="voice.mp4"' in transcriber.uploads[0]["body"]
    transcriber.server.shutdown()


def test_an_expired_link_is_given_up_and_the_message_still_answered(
    shop_a, meta_settings, cdn, queued, django_capture_on_commit_callbacks
):
    account = link(shop_a, "messenger", PAGE_A)
    message = stored_with_media(shop_a, account, cdn.url("/gone.jpg"), "image")
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        assert fetch_media_task.apply(args=(message.pk, cdn.url("/gone.jpg"), "image")).get() == 0
    assert queued.replies == [(message.conversation_id, message.pk)]
    assert cdn.requests == ["/gone.jpg"]  # a 404 is not tried again


def test_nothing_is_fetched_from_outside_metas_cdn(
    shop_a, meta_settings, cdn, queued, django_capture_on_commit_callbacks
):
    account = link(shop_a, "messenger", PAGE_A)
    message = stored_with_media(shop_a, account, cdn.url("/away"), "image")
    with shop_a.schema(), django_capture_on_commit_callbacks(execute=True):
        assert fetch_media_task.apply(args=(message.pk, cdn.url("/away"), "image")).get() == 0
    with shop_a.schema():
        assert not Message.objects.get(pk=message.pk).media
    assert cdn.requests == ["/away"]  # the redirect to another host was not followed
    assert not media_url_allowed("https://evil.example/x.jpg")
    assert not media_url_allowed("https://fbcdn.net.evil.example/x.jpg")
    assert not media_url_allowed("http://scontent.fbcdn.net/x.jpg")  # HTTPS only
    assert media_url_allowed("https://scontent.xx.fbcdn.net/v/t1.15752-9/x.jpg")


def test_the_customers_name_and_picture_come_from_the_profile_api(shop_a, graph, meta_settings, queued):
    token = graph.issue_token("page", PAGE_A)
    graph.add_page(PAGE_A, "Alpha Shop", token)
    graph.add_user(PSID, first_name="Amina", last_name="Benali", profile_pic="https://scontent.fbcdn.net/amina.jpg")
    account = link(shop_a, "messenger", PAGE_A, token=token)
    stored_with_media(shop_a, account, "https://scontent.fbcdn.net/p.jpg", "image")
    with shop_a.schema():
        assert fetch_profile_task.apply(args=(account.pk, "messenger", PSID)).get() is True
        identity = ChannelIdentity.objects.select_related("customer").get(external_id=PSID)
    assert (identity.display_name, identity.customer.name) == ("Amina Benali", "Amina Benali")
    assert identity.avatar_url == "https://scontent.fbcdn.net/amina.jpg"
