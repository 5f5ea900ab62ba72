"""Celery tasks of Messenger and Instagram: what a webhook leaves for later (media to fetch,
a customer's profile, a private reply to a comment), the refresh of Instagram tokens, and the
Messenger profile. Thin: they call the package's services."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx
from celery import Task, shared_task
from django.conf import settings
from django.db import transaction
from django_tenants.utils import schema_context

from channels_app import transcription
from channels_app.meta import accounts, comment_replies, profile
from channels_app.meta.adapter import meta_account_cached
from channels_app.meta.client import shared_http
from channels_app.meta.errors import GraphError
from channels_app.meta.inbound import Handled
from channels_app.ratelimit import allow
from conversations import services as kit
from ma5zani.celery import enqueue

logger = logging.getLogger(__name__)
MEDIA_MAX_BYTES = 25 * 1024 * 1024  # Meta's own limit on attachments
_EXTENSIONS = {"image": ".jpg", "audio": ".mp4", "video": ".mp4", "document": ""}


def enqueue_follow_ups(handled: Handled) -> None:
    """After a delivery is stored: its media, profiles and comments, each a task."""
    for schema, message_id, url, kind in handled.media:
        enqueue(fetch_media_task, message_id, url, kind, schema=schema)
    for schema, account_id, channel, customer_id in handled.profiles:
        # Asked at most hourly per customer: a profile Meta will not give is not asked at every message.
        if allow("1/hour", "meta-profile", str(account_id), customer_id):
            enqueue(fetch_profile_task, account_id, channel, customer_id, schema=schema)
    for schema, comment_id in handled.comments:
        enqueue(reply_task, comment_id, schema=schema)


@shared_task(bind=True, max_retries=3, default_retry_delay=5)
def fetch_media_task(self, message_id: int, url: str, kind: str) -> int:
    """Keep an attachment in the seller's storage (Meta's links expire), transcribe a voice
    message, then answer. A file that cannot be fetched is given up after a few tries: the
    message is answered from what it says."""
    try:
        content, mime = _download(url)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        lasting = isinstance(exc, httpx.InvalidURL) or (
            isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code < 500
        )
        if not lasting and self.request.retries < self.max_retries:
            raise self.retry(exc=exc) from None
        logger.warning("Attachment of message %s could not be fetched: %s", message_id, exc)
        kit.message_media_attached(message_id, content=None, filename="")
        return 0
    transcript = ""
    if kind == "audio" and transcription.enabled():
        transcript = transcription.transcribe(content, filename="voice.mp4", mime_type=mime or "audio/mp4")
    name = f"meta-{message_id}{_EXTENSIONS.get(kind, '')}"
    kit.message_media_attached(message_id, content=content, filename=name, transcript=transcript)
    return len(content)


def media_url_allowed(url: str) -> bool:
    """Only Meta's CDNs (META_MEDIA_HOSTS and their subdomains) over HTTPS: a link in an event
    fetches nothing else (plain HTTP only from a loopback host listed there, as in tests)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not any(host == allowed or host.endswith(f".{allowed}") for allowed in settings.META_MEDIA_HOSTS):
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and host in ("127.0.0.1", "localhost"))


MAX_REDIRECTS = 3


def _download(url: str) -> tuple[bytes, str]:
    """The attachment's bytes and type; every redirect is checked like the first address."""
    client = shared_http("")
    for _hop in range(MAX_REDIRECTS + 1):
        if not media_url_allowed(url):
            raise httpx.InvalidURL("not one of Meta's media hosts")
        with client.stream("GET", url, timeout=settings.META_TIMEOUT_SECONDS, follow_redirects=False) as response:
            if response.is_redirect:
                url = str(response.next_request.url) if response.next_request is not None else ""
                continue
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MEDIA_MAX_BYTES:
                    raise httpx.HTTPError("attachment too large")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type", "").split(";")[0]
    raise httpx.HTTPError("too many redirects")


@shared_task
def fetch_profile_task(account_id: int, channel: str, customer_id: str) -> bool:
    """The customer's name (and picture) from Meta's profile API."""
    meta = meta_account_cached(account_id)
    if meta is None or not meta.can_send:
        return False
    fields = ("name", "username", "profile_pic") if meta.is_instagram else ("first_name", "last_name", "profile_pic")
    try:
        profile = accounts.client_for(meta).user_profile(customer_id, fields)
    except GraphError as exc:
        if exc.kind == "reconnect":
            accounts.mark_reconnect(meta, str(exc))
        logger.info("Profile of %s on account %s not read: %s", customer_id, account_id, exc)
        return False
    name = (
        str(profile.get("name") or "").strip()
        or " ".join(str(profile.get(key) or "") for key in ("first_name", "last_name")).strip()
    )
    if not name and profile.get("username"):
        name = f"@{profile['username']}"
    return kit.identity_set_profile(
        channel=channel,
        channel_account_id=account_id,
        external_id=customer_id,
        name=name,
        avatar_url=str(profile.get("profile_pic") or ""),
    )


@shared_task
def refresh_tokens_task() -> dict[str, int]:
    """Beat: Instagram Login tokens refreshed well before they expire."""
    refreshed, failed = accounts.tokens_refresh_due()
    return {"refreshed": refreshed, "failed": failed}


# A profile not set for want of budget is tried again while the window frees up (six tries
# span Meta's 10 minutes); one that failed otherwise (Meta unreachable, say) twice more, then
# it waits for the next change.
PROFILE_RATE_RETRY_SECONDS = 120
PROFILE_FAILED_RETRY_SECONDS = 60
PROFILE_FAILED_RETRIES = 2


@shared_task(bind=True, max_retries=6)
def apply_profile_task(self: Task, account_id: int, force: bool = False) -> str:
    """Set the account's Messenger profile or Instagram ice breakers from its seller's
    settings (channels_app.meta.profile): the outcome code, or "gone" for an account that is
    no more. Idempotent: an unchanged profile is not sent again."""
    meta = accounts.meta_account_for(account_id)
    if meta is None:
        return "gone"
    outcome = profile.profile_apply(meta, force=force)
    retries = self.request.retries
    if outcome == "rate_limited" and retries < self.max_retries:
        raise self.retry(countdown=PROFILE_RATE_RETRY_SECONDS)
    if outcome == "failed" and retries < PROFILE_FAILED_RETRIES:
        raise self.retry(countdown=PROFILE_FAILED_RETRY_SECONDS * (retries + 1))
    return outcome


def profile_apply_later(account_ids: Iterable[int], schema: str) -> None:
    """Once the current transaction commits, a task per account sets its profile (in the
    seller's schema, where its bot settings are)."""
    ids = list(account_ids)

    def send() -> None:
        for account_id in ids:
            enqueue(apply_profile_task, account_id, schema=schema)

    transaction.on_commit(send)


@shared_task(bind=True, max_retries=5)
def reply_task(self, comment_id: int) -> str:
    """The private reply to a comment (and the public one, if the seller wants it)."""
    outcome = comment_replies.comment_reply(comment_id)
    if outcome == "retry" and self.request.retries < self.max_retries:
        raise self.retry(countdown=min(60, 5 * 2**self.request.retries))
    return outcome


@shared_task
def sweep_comments_task() -> int:
    """Beat: comments still waiting for their private reply (a rate limit outlasted the
    retries, a lost task) are asked again while Meta's 7 days last."""
    from sellers.selectors import active_seller_schemas

    asked = 0
    for schema in active_seller_schemas():
        with schema_context(schema):
            pending = kit.comments_due()
        for comment_id in pending:
            enqueue(reply_task, comment_id, schema=schema)
            asked += 1
    return asked
