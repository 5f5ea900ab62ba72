"""Linked Pages and Instagram accounts: what can be linked with a token, linking (the app
subscribed to the webhook fields it needs, the token stored encrypted with its expiry and
scopes), the client that speaks for an account, "reconnect needed", unlinking, and the
refresh of Instagram Login tokens before they expire. Public schema.

Tokens: a Page token obtained from a long-lived user token does not expire (Messenger and
Instagram through a Page); an Instagram Login token lives 60 days and may be refreshed once it
is 24 hours old; a business system-user token (`manage.py meta_link`) does not expire.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.meta.client import GraphClient, Token, instagram_refresh
from channels_app.meta.errors import GraphError
from channels_app.models import ChannelAccount, MetaAccount
from channels_app.selectors import channel_accounts_forget
from ma5zani.crypto import SecretUnreadable, decrypt, encrypt
from sellers.models import Membership, Seller

logger = logging.getLogger(__name__)

# What the app asks for (Facebook Login for Business, Instagram API with Instagram Login).
FACEBOOK_SCOPES = (
    "pages_show_list",
    "pages_messaging",
    "pages_manage_metadata",
    "pages_read_engagement",
    "pages_manage_engagement",
    "instagram_basic",
    "instagram_manage_messages",
    "instagram_manage_comments",
    "business_management",
)
INSTAGRAM_SCOPES = (
    "instagram_business_basic",
    "instagram_business_manage_messages",
    "instagram_business_manage_comments",
)
# The webhook fields each kind of account is subscribed to.
PAGE_FIELDS = (
    "messages",
    "messaging_postbacks",
    "message_reactions",
    "message_reads",
    "message_deliveries",
    "message_echoes",
    "messaging_referrals",
    "feed",
)
INSTAGRAM_FIELDS = (
    "messages",
    "messaging_postbacks",
    "messaging_seen",
    "message_reactions",
    "messaging_referral",
    "comments",
)
# An Instagram Login token is refreshed this long before it expires (it lives 60 days).
REFRESH_BEFORE = dt.timedelta(days=20)
REFRESH_MIN_AGE = dt.timedelta(hours=24)
INSTAGRAM_TOKEN_LIFE = dt.timedelta(days=60)

CHANNEL_OF_KIND = {
    MetaAccount.Kind.PAGE: ChannelAccount.Channel.MESSENGER,
    MetaAccount.Kind.INSTAGRAM_PAGE: ChannelAccount.Channel.INSTAGRAM,
    MetaAccount.Kind.INSTAGRAM_LOGIN: ChannelAccount.Channel.INSTAGRAM,
}


@dataclass(frozen=True)
class Candidate:
    """A Page or an Instagram account the token can link (what the seller picks from)."""

    kind: str  # MetaAccount.Kind
    external_id: str  # the id Meta's webhooks carry (entry.id)
    name: str
    token: str = field(repr=False)
    username: str = ""
    page_id: str = ""  # the Page that sends (Messenger, Instagram through a Page)
    expires_at: dt.datetime | None = None
    scopes: tuple[str, ...] = ()
    picture: str = ""

    @property
    def channel(self) -> str:
        return CHANNEL_OF_KIND[MetaAccount.Kind(self.kind)]

    @property
    def key(self) -> str:
        """What the seller's choice names (stable, not secret)."""
        return f"{self.kind}:{self.external_id}"


def facebook_candidates(user_token: Token, *, transport: object = None) -> list[Candidate]:
    """The Pages of a (long-lived) user token, and the Instagram account connected to each."""
    client = GraphClient.facebook(user_token.access_token, **_transport(transport))
    candidates: list[Candidate] = []
    for page in client.accounts():
        page_id, page_token = str(page.get("id") or ""), str(page.get("access_token") or "")
        if not page_id or not page_token:
            continue
        name = str(page.get("name") or page_id)
        candidates.append(
            Candidate(
                kind=MetaAccount.Kind.PAGE,
                external_id=page_id,
                name=name,
                token=page_token,
                page_id=page_id,
                scopes=user_token.scopes,
            )
        )
        instagram = page.get("instagram_business_account")
        if isinstance(instagram, dict) and instagram.get("id"):
            candidates.append(
                Candidate(
                    kind=MetaAccount.Kind.INSTAGRAM_PAGE,
                    external_id=str(instagram["id"]),
                    name=str(instagram.get("name") or instagram.get("username") or name),
                    username=str(instagram.get("username") or ""),
                    token=page_token,
                    page_id=page_id,
                    scopes=user_token.scopes,
                    picture=str(instagram.get("profile_picture_url") or ""),
                )
            )
    return candidates


def instagram_candidate(token: Token, *, transport: object = None) -> Candidate:
    """The Instagram professional account of an Instagram Login token."""
    client = GraphClient.instagram(token.access_token, **_transport(transport))
    me = client.me(("user_id", "username", "name", "profile_picture_url"))
    external_id = str(me.get("user_id") or me.get("id") or token.user_id)
    if not external_id:
        raise ValidationError(_("Instagram did not say which account this is."))
    return Candidate(
        kind=MetaAccount.Kind.INSTAGRAM_LOGIN,
        external_id=external_id,
        name=str(me.get("name") or me.get("username") or external_id),
        username=str(me.get("username") or ""),
        token=token.access_token,
        # An Instagram Login token always expires (60 days at most): unknown, it is counted from
        # now, so the beat refreshes it in time.
        expires_at=token.expires_at or timezone.now() + INSTAGRAM_TOKEN_LIFE,
        scopes=token.scopes,
        picture=str(me.get("profile_picture_url") or ""),
    )


def _transport(transport: object) -> dict[str, object]:
    return {"transport": transport} if transport is not None else {}


def client_for(meta: MetaAccount) -> GraphClient:
    """The client that speaks for the account (its token, its host)."""
    token = account_token(meta)
    if meta.kind == MetaAccount.Kind.INSTAGRAM_LOGIN:
        return GraphClient.instagram(token)
    return GraphClient.facebook(token)


def account_token(meta: MetaAccount) -> str:
    try:
        return decrypt(meta.token_encrypted) if meta.token_encrypted else ""
    except SecretUnreadable:
        logger.error("The token of Meta account %s cannot be read (encryption keys changed)", meta.pk)
        return ""


def _subscription_target(candidate: Candidate) -> str:
    return candidate.page_id or candidate.external_id


def _fields(kind: str) -> tuple[str, ...]:
    return PAGE_FIELDS if kind != MetaAccount.Kind.INSTAGRAM_LOGIN else INSTAGRAM_FIELDS


def account_link(
    seller: Seller, candidate: Candidate, *, member_id: int | None = None, operator: bool = False
) -> ChannelAccount:
    """Link the candidate to the seller: the app subscribed to its webhook fields first (a
    link that cannot receive is no link), then the channel account and its token stored in one
    transaction. Refused while the Page or account is linked to another shop (once that shop
    unlinked it, it may move)."""
    with schema_context(get_public_schema_name()):
        _refuse_if_taken(seller, candidate)
        client = (
            GraphClient.instagram(candidate.token)
            if candidate.kind == MetaAccount.Kind.INSTAGRAM_LOGIN
            else GraphClient.facebook(candidate.token)
        )
        fields = _fields(candidate.kind)
        try:
            client.subscribe_app(_subscription_target(candidate), fields)
        except GraphError as exc:
            logger.warning("Subscribing %s failed: %s", candidate.key, exc)
            raise ValidationError(
                _("Meta refused to connect %(name)s: %(error)s") % {"name": candidate.name, "error": exc.message}
            ) from None
        now = timezone.now()
        with transaction.atomic():
            account = _claim_account(seller, candidate)
            MetaAccount.objects.update_or_create(
                account=account,
                defaults={
                    "kind": candidate.kind,
                    "page_id": candidate.page_id,
                    "username": candidate.username,
                    "token_encrypted": encrypt(candidate.token),
                    "token_expires_at": candidate.expires_at,
                    "token_refreshed_at": now,
                    "scopes": list(candidate.scopes),
                    "linked_by_operator": operator,
                    "linked_by_id": member_id,
                    "state": MetaAccount.State.OK,
                    "state_reason": "",
                    "state_changed_at": now,
                    "owner_told_at": None,
                    "subscribed_fields": list(fields),
                    "subscribed_at": now,
                },
            )
    channel_accounts_forget()
    _profile_apply_later(account.pk, seller.schema_name)
    return account


def _profile_apply_later(account_id: int, schema: str) -> None:
    """A newly linked account gets its Messenger profile or ice breakers by a task, once the
    link is committed (a broker outage is logged there, never an error of the link)."""
    from channels_app.meta.tasks import profile_apply_later

    profile_apply_later([account_id], schema)


def _claim_account(seller: Seller, candidate: Candidate) -> ChannelAccount:
    """The candidate's channel account, this seller's, locked: created, or taken over when no
    other shop holds it (two shops linking one Page at once: the second is refused)."""
    rows = ChannelAccount.objects.select_for_update().filter(
        channel=candidate.channel, external_id=candidate.external_id
    )
    account = rows.first()
    if account is None:
        try:
            with transaction.atomic():
                account = ChannelAccount.objects.create(
                    seller=seller, channel=candidate.channel, external_id=candidate.external_id
                )
        except IntegrityError:  # another shop created it meanwhile: as if it was there before
            account = rows.get()
    if account.seller_id != seller.pk and account.status != ChannelAccount.Status.DISCONNECTED:
        raise ValidationError(_("%(name)s is linked to another shop.") % {"name": candidate.name})
    account.seller = seller
    account.display_name = (candidate.username and f"@{candidate.username}") or candidate.name
    account.status = ChannelAccount.Status.CONNECTED
    account.save(update_fields=["seller", "display_name", "status", "updated_at"])
    return account


def _refuse_if_taken(seller: Seller, candidate: Candidate, *, lock: bool = False) -> None:
    rows = ChannelAccount.objects.filter(channel=candidate.channel, external_id=candidate.external_id)
    taken = (rows.select_for_update() if lock else rows).first()
    if taken is not None and taken.seller_id != seller.pk and taken.status != ChannelAccount.Status.DISCONNECTED:
        raise ValidationError(_("%(name)s is linked to another shop.") % {"name": candidate.name})


def account_unlink(account: ChannelAccount) -> None:
    """Stop receiving and sending for this account: the app unsubscribed (best effort; not
    while another linked account of the same Page still needs the Page's webhooks), the token
    forgotten; conversations stay."""
    meta = MetaAccount.objects.filter(account=account).first()
    target = (meta.page_id or account.external_id) if meta is not None else ""
    shared = (
        MetaAccount.objects.filter(page_id=target)
        .exclude(account=account)
        .exclude(token_encrypted="")
        .exclude(account__status=ChannelAccount.Status.DISCONNECTED)
        .exists()
        if meta is not None and meta.page_id
        else False
    )
    if meta is not None and meta.token_encrypted and not shared:
        try:
            client_for(meta).unsubscribe_app(target)
        except GraphError as exc:
            logger.info("Unsubscribing %s failed (%s); unlinked anyway", account.pk, exc)
    with transaction.atomic():
        ChannelAccount.objects.filter(pk=account.pk).update(status=ChannelAccount.Status.DISCONNECTED)
        MetaAccount.objects.filter(account=account).update(token_encrypted="", subscribed_fields=[])
    channel_accounts_forget()


def mark_reconnect(meta: MetaAccount, reason: str) -> None:
    """The token is no longer valid (Meta's error 190): the channel stops sending, the
    dashboard shows a banner, and the owner is e-mailed once."""
    now = timezone.now()
    with schema_context(get_public_schema_name()):
        changed = (
            MetaAccount.objects.filter(pk=meta.pk)
            .exclude(state=MetaAccount.State.RECONNECT)
            .update(state=MetaAccount.State.RECONNECT, state_reason=reason[:500], state_changed_at=now)
        )
        ChannelAccount.objects.filter(pk=meta.account_id).update(status=ChannelAccount.Status.ERROR)
        channel_accounts_forget()
        if not changed:
            return
        account = ChannelAccount.objects.select_related("seller").get(pk=meta.account_id)
        _tell_owner(account)
        MetaAccount.objects.filter(pk=meta.pk).update(owner_told_at=now)


def _tell_owner(account: ChannelAccount) -> None:
    owners = list(
        Membership.objects.filter(seller=account.seller, role=Membership.Role.OWNER).values_list(
            "user__email", flat=True
        )
    )
    if not owners:
        return
    try:
        send_mail(
            _("%(channel)s needs to be reconnected") % {"channel": account},
            _(
                "Meta no longer accepts the connection of %(channel)s to your shop %(shop)s, so the bot "
                "cannot answer there. Open Messenger & Instagram in your dashboard and connect it again."
            )
            % {"channel": account, "shop": account.seller.name},
            None,
            owners,
        )
    except Exception:
        logger.exception("The reconnect notice for channel account %s could not be e-mailed", account.pk)


def tokens_refresh_due(now: dt.datetime | None = None) -> tuple[int, int]:
    """Refresh every Instagram Login token that expires within REFRESH_BEFORE (and is old
    enough to be refreshed), well before it lapses: (refreshed, failed). An invalid token puts
    its channel in "reconnect needed"; a temporary failure is tried again at the next run."""
    now = now or timezone.now()
    refreshed = failed = 0
    with schema_context(get_public_schema_name()):
        due = MetaAccount.objects.filter(
            kind=MetaAccount.Kind.INSTAGRAM_LOGIN,
            state=MetaAccount.State.OK,
            token_expires_at__lt=now + REFRESH_BEFORE,
            token_refreshed_at__lt=now - REFRESH_MIN_AGE,
        ).exclude(token_encrypted="")
        for meta in due:
            try:
                token = instagram_refresh(account_token(meta))
            except GraphError as exc:
                failed += 1
                if exc.kind == "reconnect" or (meta.token_expires_at is not None and meta.token_expires_at <= now):
                    mark_reconnect(meta, str(exc))
                else:
                    logger.warning("Refreshing the token of Meta account %s failed: %s", meta.pk, exc)
                continue
            MetaAccount.objects.filter(pk=meta.pk).update(
                token_encrypted=encrypt(token.access_token),
                token_expires_at=token.expires_at,
                token_refreshed_at=now,
            )
            refreshed += 1
    return refreshed, failed


def meta_account_for(account_id: int) -> MetaAccount | None:
    with schema_context(get_public_schema_name()):
        return MetaAccount.objects.select_related("account").filter(account_id=account_id).first()


def account_settings_update(
    meta: MetaAccount, *, comment_replies: str, comment_posts: list[str], comment_public_reply: bool
) -> None:
    """What the seller chose for comments under their posts."""
    if comment_replies not in MetaAccount.Comments.values:
        raise ValidationError(_("Choose how comments are answered."))
    posts = [post.strip()[:100] for post in comment_posts if post.strip()][:200]
    with schema_context(get_public_schema_name()):
        MetaAccount.objects.filter(pk=meta.pk).update(
            comment_replies=comment_replies, comment_posts=posts, comment_public_reply=comment_public_reply
        )
