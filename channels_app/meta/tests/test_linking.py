"""The dashboard's "Messenger & Instagram" page against the loopback Graph API: linking through
Facebook Login for Business and Instagram Login (the state checked, the tokens never shown),
owners only, each shop its own accounts, comment settings, unlinking, the reconnect banner,
and the inbox's channel badges."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.base import InboundMessage
from channels_app.meta import login
from channels_app.meta.accounts import INSTAGRAM_SCOPES, account_token, mark_reconnect
from channels_app.meta.testing import GraphServer
from channels_app.meta.tests.conftest import INSTAGRAM_A, PAGE_A, PAGE_B, link
from channels_app.models import ChannelAccount, MetaAccount
from conversations.services import ingest

pytestmark = pytest.mark.django_db

PAGE_TOKEN = "page-token-alpha"
OTHER_PAGE = "109876543210987"
PAGE_PATH = "/dashboard/channels/meta/"


@pytest.fixture
def meta(graph: GraphServer, meta_settings: Any) -> GraphServer:
    """The loopback Graph API with the shop's Page, its Instagram account, and a second Page."""
    graph.add_page(PAGE_A, "Alpha Boutique", PAGE_TOKEN, {"id": INSTAGRAM_A, "username": "alpha.dz", "name": "Alpha"})
    graph.add_page(OTHER_PAGE, "Alpha Outlet", "page-token-outlet")
    return graph


class Seen:
    """Every page and cookie a test's browser received, to look for secrets in."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def keep(self, response: Any) -> Any:
        self.texts.append(response.content.decode(errors="replace"))
        self.texts.extend(f"{name}={morsel.value}" for name, morsel in response.cookies.items())
        self.texts.extend(str(value) for value in response.headers.values())
        return response


def to_dialog(client: Any, platform: str, seen: Seen | None = None) -> str:
    """Press "Connect": the dialog's URL."""
    response = client.post(f"{PAGE_PATH}connect/{platform}/")
    if seen:
        seen.keep(response)
    assert response.status_code == 302, response.content
    return str(response["Location"])


def through_dialog(dialog: str) -> str:
    """The loopback dialog answers at once (302 back to the platform's one registered address,
    which sends the browser on to the shop's callback): the callback's path and query."""
    answer = httpx.get(dialog, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert back.netloc == settings.BASE_DOMAIN and back.path.startswith("/meta/oauth/")
    relay = Client(HTTP_HOST=settings.BASE_DOMAIN).get(f"{back.path}?{back.query}")
    assert relay.status_code == 302, relay.content
    shop = urlsplit(str(relay["Location"]))
    return f"{shop.path}?{shop.query}"


def to_pick(client: Any, platform: str = "facebook", seen: Seen | None = None) -> str:
    """Connect, consent, come back: the pick list's path."""
    response = client.get(through_dialog(to_dialog(client, platform, seen)))
    if seen:
        seen.keep(response)
    assert response.status_code == 302, response.content
    assert "/pick/" in response["Location"], response["Location"]
    return str(response["Location"])


def page_text(client: Any, path: str = PAGE_PATH) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def accounts_of(shop: Any) -> dict[tuple[str, str], ChannelAccount]:
    with schema_context(get_public_schema_name()):
        return {
            (account.channel, account.external_id): account
            for account in ChannelAccount.objects.filter(
                seller=shop.seller, channel__in=("messenger", "instagram")
            ).select_related("meta")
        }


def flashed(response: Any) -> str:
    return " ".join(str(message) for message in response.context["messages"])


# --- linking ------------------------------------------------------------------------------------


def test_the_owner_links_a_page_and_its_instagram_account_with_facebook(shop_a, meta):
    client, seen = shop_a.client(), Seen()
    dialog = urlsplit(to_dialog(client, "facebook", seen))
    query = parse_qs(dialog.query)
    assert dialog.path == "/v26.0/dialog/oauth"
    assert query["redirect_uri"] == [f"http://{settings.BASE_DOMAIN}/meta/oauth/facebook/"]  # one, registered
    assert query["state"][0].startswith(f"{shop_a.seller.slug}.")
    assert "pages_messaging" in query["scope"][0] and "instagram_manage_messages" in query["scope"][0]
    assert len(query["state"][0]) >= 40

    pick = to_pick(client, seen=seen)
    listing = seen.keep(client.get(pick))
    body = listing.content.decode()
    assert "Alpha Boutique" in body and "@alpha.dz" in body and "Alpha Outlet" in body
    assert f'value="page:{PAGE_A}"' in body and f'value="instagram_page:{INSTAGRAM_A}"' in body
    # The long-lived user token was exchanged from the short one, and read the Pages.
    assert [c.query.get("grant_type") for c in meta.calls_to("/oauth/access_token")] == [None, "fb_exchange_token"]
    assert len(meta.calls_to("/me/accounts")) == 1

    done = seen.keep(client.post(pick, {"pick": [f"page:{PAGE_A}", f"instagram_page:{INSTAGRAM_A}"]}, follow=True))
    assert done.redirect_chain == [(PAGE_PATH, 302)]
    assert "Messenger: Alpha Boutique is connected." in flashed(done)
    assert "Instagram: @alpha.dz is connected." in flashed(done)

    linked = accounts_of(shop_a)
    assert set(linked) == {("messenger", PAGE_A), ("instagram", INSTAGRAM_A)}  # the Outlet was not ticked
    page, instagram = linked[("messenger", PAGE_A)], linked[("instagram", INSTAGRAM_A)]
    assert (page.status, page.meta.kind, page.meta.page_id) == ("connected", "page", PAGE_A)
    assert (instagram.meta.kind, instagram.meta.page_id, instagram.meta.username) == (
        "instagram_page",
        PAGE_A,
        "alpha.dz",
    )
    assert account_token(page.meta) == PAGE_TOKEN == account_token(instagram.meta)
    assert PAGE_TOKEN not in page.meta.token_encrypted
    assert page.meta.linked_by_id == shop_a.owner.pk and not page.meta.linked_by_operator
    assert "pages_messaging" in page.meta.scopes  # what debug_token says was granted
    assert set(meta.subscriptions) == {PAGE_A}  # Instagram through the Page: the Page's subscription
    body = seen.keep(client.get(PAGE_PATH)).content.decode()
    assert body.count('data-state="ok"') == 2 and "Reconnect needed" not in body

    secrets = meta.valid_tokens()
    assert PAGE_TOKEN in secrets and len(secrets) >= 4  # short and long user tokens, two Page tokens
    for text in seen.texts:
        for secret in secrets:
            assert secret not in text
    # The session (in the database) keeps no token readable either.
    for session in Session.objects.all():
        decoded = json.dumps(session.get_decoded())
        assert not any(secret in decoded for secret in secrets)


def test_the_pick_list_is_kept_encrypted_in_the_session_and_dropped_once_used(shop_a, meta):
    client = shop_a.client()
    pick = to_pick(client)
    stored = json.dumps(Session.objects.get(session_key=client.session.session_key).get_decoded())
    assert PAGE_TOKEN not in stored and "meta_link_picks" in stored
    client.post(pick, {"pick": [f"page:{PAGE_A}"]})
    again = client.get(pick, follow=True)
    assert "This list of accounts expired" in flashed(again)
    assert client.session.get("meta_link_picks") == {}


def test_instagram_login_links_a_professional_account(shop_a, meta):
    client = shop_a.client()
    dialog = urlsplit(to_dialog(client, "instagram"))
    query = parse_qs(dialog.query)
    assert dialog.path == "/oauth/authorize" and query["client_id"] == ["ig-app"]
    assert query["scope"] == [",".join(INSTAGRAM_SCOPES)]
    pick = to_pick_from(client, dialog.geturl())
    assert "@shop.dz" in page_text(client, pick)
    done = client.post(pick, {"pick": ["instagram_login:17841400000000001"]}, follow=True)
    assert "Instagram: @shop.dz is connected." in flashed(done)
    account = accounts_of(shop_a)[("instagram", "17841400000000001")]
    assert (account.meta.kind, account.meta.page_id) == ("instagram_login", "")
    assert set(account.meta.scopes) == set(INSTAGRAM_SCOPES)
    # The long-lived token (60 days), the one the account was subscribed with.
    assert account.meta.token_expires_at is not None
    assert account.meta.token_expires_at - timezone.now() > dt.timedelta(days=59)
    assert meta.tokens[account_token(account.meta)].expires_in > 3600
    assert meta.subscriptions["17841400000000001"][0] == "messages"
    assert "The connection is renewed automatically" in page_text(client)


def to_pick_from(client: Any, dialog: str) -> str:
    response = client.get(through_dialog(dialog))
    assert response.status_code == 302 and "/pick/" in response["Location"]
    return str(response["Location"])


# --- the state ---------------------------------------------------------------------------------


def _callback_of(client: Any) -> str:
    return through_dialog(to_dialog(client, "facebook"))


def test_a_forged_state_links_nothing(shop_a, meta):
    client = shop_a.client()
    callback = urlsplit(_callback_of(client))
    code = parse_qs(callback.query)["code"][0]
    response = client.get(callback.path, {"code": code, "state": "forged-state"}, follow=True)
    assert "This connection link is not valid" in flashed(response)
    assert meta.calls_to("/oauth/access_token") == []  # the code was not even exchanged
    assert accounts_of(shop_a) == {}
    response = client.get(callback.path, {"code": code}, follow=True)  # no state at all
    assert "This connection link is not valid" in flashed(response)
    assert meta.calls_to("/oauth/access_token") == []


def test_a_replayed_state_links_nothing(shop_a, meta):
    client = shop_a.client()
    callback = _callback_of(client)
    assert "/pick/" in client.get(callback)["Location"]
    exchanges = len(meta.calls_to("/oauth/access_token"))
    replay = client.get(callback, follow=True)
    assert "This connection link is not valid" in flashed(replay)
    assert len(meta.calls_to("/oauth/access_token")) == exchanges


def test_an_expired_state_links_nothing(shop_a, meta, monkeypatch):
    client = shop_a.client()
    callback = _callback_of(client)
    later = login._now() + login.STATE_TTL + 1
    monkeypatch.setattr(login, "_now", lambda: later)
    response = client.get(callback, follow=True)
    assert "This connection link is not valid" in flashed(response)
    assert meta.calls_to("/oauth/access_token") == []


def test_a_state_serves_only_the_member_and_shop_that_asked(shop_a, shop_b, meta, add_member):
    other_owner = add_member(shop_a, "second-owner@alpha.test", role="owner")
    callback = _callback_of(shop_a.client())  # the first owner's session holds the state
    response = shop_a.client(other_owner).get(callback, follow=True)
    assert "This connection link is not valid" in flashed(response)
    response = shop_b.client().get(callback, follow=True)
    assert "This connection link is not valid" in flashed(response)
    assert meta.calls_to("/oauth/access_token") == []


def test_a_denied_dialog_says_so_kindly_and_links_nothing(shop_a, meta):
    meta.deny_dialog = True
    client = shop_a.client()
    response = client.get(_callback_of(client), follow=True)
    assert response.redirect_chain == [(PAGE_PATH, 302)]
    assert "You did not allow ma5zani Bot to reach your Facebook Pages, so nothing was linked." in flashed(response)
    assert meta.calls_to("/oauth/access_token") == [] and accounts_of(shop_a) == {}
    response = client.get(through_dialog(to_dialog(client, "instagram")), follow=True)
    assert "reach your Instagram account" in flashed(response)


def test_meta_refusing_the_code_links_nothing(shop_a, meta):
    meta.fail("/oauth/access_token", 100, message="Invalid verification code format.")
    client = shop_a.client()
    response = client.get(_callback_of(client), follow=True)
    assert "Meta refused the connection (Invalid verification code format.)" in flashed(response)
    assert accounts_of(shop_a) == {}


def test_a_login_without_any_page_says_what_to_do(shop_a, graph, meta_settings):
    client = shop_a.client()
    response = client.get(_callback_of(client), follow=True)
    assert "Facebook gave access to no Page" in flashed(response)


# --- what cannot be linked ------------------------------------------------------------------------


def test_a_page_linked_to_another_shop_is_refused(shop_a, shop_b, meta):
    link(shop_b, "messenger", PAGE_A, token="page-token-of-bravo")
    client = shop_a.client()
    pick = to_pick(client)
    body = page_text(client, pick)
    assert "Linked to another shop: it must be unlinked there first." in body
    assert f'value="page:{PAGE_A}" data-external-id="{PAGE_A}" disabled' in body
    assert "Bravo" not in body  # which shop is not said

    # Ticked anyway (a hand-made form): refused, the Instagram account beside it still links.
    done = client.post(pick, {"pick": [f"page:{PAGE_A}", f"instagram_page:{INSTAGRAM_A}"]}, follow=True)
    assert "Alpha Boutique is linked to another shop." in flashed(done)
    assert "Instagram: @alpha.dz is connected." in flashed(done)
    assert set(accounts_of(shop_a)) == {("instagram", INSTAGRAM_A)}
    bravo = accounts_of(shop_b)[("messenger", PAGE_A)]
    assert bravo.status == "connected" and account_token(bravo.meta) == "page-token-of-bravo"


def test_a_page_another_shop_unlinked_may_move_here(shop_a, shop_b, meta):
    bravo = link(shop_b, "messenger", PAGE_A, token="page-token-of-bravo")
    shop_b.client().post(PAGE_PATH, {"action": "unlink", "account": bravo.pk})
    client = shop_a.client()
    pick = to_pick(client)
    body = page_text(client, pick)
    assert "Linked to another shop" not in body
    assert f'value="page:{PAGE_A}" data-external-id="{PAGE_A}" >' in body  # not disabled
    done = client.post(pick, {"pick": [f"page:{PAGE_A}"]}, follow=True)
    assert "Messenger: Alpha Boutique is connected." in flashed(done)
    moved = accounts_of(shop_a)[("messenger", PAGE_A)]
    assert (moved.pk, moved.status, account_token(moved.meta)) == (bravo.pk, "connected", PAGE_TOKEN)
    assert accounts_of(shop_b) == {}
    assert f'data-meta-account="{PAGE_A}"' not in page_text(shop_b.client())


def test_a_page_taken_by_another_shop_meanwhile_is_not_moved(shop_a, shop_b, meta, monkeypatch):
    """The race: another shop links the Page between the check and the write."""
    from channels_app.meta import accounts

    client = shop_a.client()
    pick = to_pick(client)
    real_subscribe = accounts.GraphClient.subscribe_app

    def subscribe_then_lose_the_race(self, account_id, fields):
        real_subscribe(self, account_id, fields)
        link(shop_b, "messenger", PAGE_A, token="page-token-of-bravo")

    monkeypatch.setattr(accounts.GraphClient, "subscribe_app", subscribe_then_lose_the_race)
    done = client.post(pick, {"pick": [f"page:{PAGE_A}"]}, follow=True)
    assert "Alpha Boutique is linked to another shop." in flashed(done)
    assert accounts_of(shop_a) == {}
    bravo = accounts_of(shop_b)[("messenger", PAGE_A)]
    assert (bravo.display_name, account_token(bravo.meta)) == (PAGE_A, "page-token-of-bravo")


def test_meta_refusing_the_subscription_stores_nothing(shop_a, meta):
    meta.fail("/subscribed_apps", 200, message="(#200) Requires pages_manage_metadata permission")
    client = shop_a.client()
    pick = to_pick(client)
    done = client.post(pick, {"pick": [f"page:{PAGE_A}"]}, follow=True)
    assert "Meta refused to connect Alpha Boutique: (#200) Requires pages_manage_metadata permission" in flashed(done)
    assert accounts_of(shop_a) == {}
    with schema_context(get_public_schema_name()):
        assert not MetaAccount.objects.exists()


def test_nothing_ticked_asks_to_tick_and_an_unknown_pick_is_refused(shop_a, meta):
    client = shop_a.client()
    pick = to_pick(client)
    response = client.post(pick, {"pick": ["page:999"]})
    assert response.status_code == 400 and "Tick the Pages and accounts to link." in response.content.decode()
    assert accounts_of(shop_a) == {}
    response = client.get(f"{PAGE_PATH}pick/made-up/", follow=True)
    assert "This list of accounts expired" in flashed(response)


def test_a_pick_list_expires(shop_a, meta, monkeypatch):
    client = shop_a.client()
    pick = to_pick(client)
    later = login._now() + login.PICK_TTL + 1
    monkeypatch.setattr(login, "_now", lambda: later)
    response = client.post(pick, {"pick": [f"page:{PAGE_A}"]}, follow=True)
    assert "This list of accounts expired" in flashed(response)
    assert accounts_of(shop_a) == {}


def test_a_pick_list_serves_only_its_shop(shop_a, shop_b, meta):
    pick = to_pick(shop_a.client())
    response = shop_b.client().post(pick, {"pick": [f"page:{PAGE_A}"]}, follow=True)
    assert "This list of accounts expired" in flashed(response)
    assert accounts_of(shop_a) == {} and accounts_of(shop_b) == {}


def test_without_a_meta_app_the_buttons_are_off(shop_a, settings):
    settings.META_APP_ID = settings.META_INSTAGRAM_APP_ID = ""
    client = shop_a.client()
    body = page_text(client)
    assert 'data-connect="facebook" disabled' in body and "not set up on this server" in body
    response = client.post(f"{PAGE_PATH}connect/facebook/", follow=True)
    assert "not set up on this server" in flashed(response)


# --- who may do what ------------------------------------------------------------------------------


def test_agents_see_the_page_read_only(shop_a, meta, add_member):
    account = link(shop_a, "messenger", PAGE_A)
    agent = shop_a.client(add_member(shop_a, "agent@alpha.test"))
    body = page_text(agent)
    assert f'data-meta-account="{PAGE_A}"' in body and "data-read-only" in body
    assert "data-connect=" not in body and 'name="comment_replies"' not in body and "Unlink" not in body
    assert "Every post" in body  # the settings, as text
    assert agent.post(f"{PAGE_PATH}connect/facebook/").status_code == 403
    assert agent.get(f"{PAGE_PATH}callback/facebook/?code=x&state=y").status_code == 403
    assert agent.post(PAGE_PATH, {"action": "unlink", "account": account.pk}).status_code == 403
    settings_post = {"action": "settings", "account": account.pk, "comment_replies": "off"}
    assert agent.post(PAGE_PATH, settings_post).status_code == 403
    meta_row = accounts_of(shop_a)[("messenger", PAGE_A)].meta
    assert (meta_row.comment_replies, account_token(meta_row)) == ("all", "page-token")


def test_each_shop_sees_and_changes_only_its_own_accounts(shop_a, shop_b, meta):
    alpha = link(shop_a, "messenger", PAGE_A)
    link(shop_b, "messenger", PAGE_B)
    body = page_text(shop_b.client())
    assert f'data-meta-account="{PAGE_B}"' in body and PAGE_A not in body
    for action in ({"action": "unlink"}, {"action": "settings", "comment_replies": "off"}):
        response = shop_b.client().post(PAGE_PATH, {**action, "account": alpha.pk})
        assert response.status_code == 404
    row = accounts_of(shop_a)[("messenger", PAGE_A)]
    assert (row.status, row.meta.comment_replies, account_token(row.meta)) == ("connected", "all", "page-token")
    # Nor does a member of one shop reach the other's page at all.
    assert shop_a.anonymous().get(PAGE_PATH).status_code == 302
    outsider = shop_b.client()
    outsider.defaults["HTTP_HOST"] = shop_a.host
    assert outsider.get(PAGE_PATH).status_code == 403


# --- settings and unlinking ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "error"),
    [
        ({"comment_replies": "some", "comment_posts": ""}, "Give at least one post, or choose every post."),
        ({"comment_replies": "some", "comment_posts": "17895695668004550\nhttps://x"}, "These are not post ids"),
        ({"comment_replies": "sometimes"}, "Select a valid choice."),
        ({"comment_replies": "some", "comment_posts": "\n".join(str(10**15 + n) for n in range(201))}, "At most 200"),
    ],
)
def test_the_comment_settings_are_checked(shop_a, meta, posted, error):
    account = link(shop_a, "instagram", INSTAGRAM_A)
    response = shop_a.client().post(PAGE_PATH, {"action": "settings", "account": account.pk, **posted})
    assert response.status_code == 400
    assert error in response.content.decode()
    meta_row = accounts_of(shop_a)[("instagram", INSTAGRAM_A)].meta
    assert (meta_row.comment_replies, meta_row.comment_posts, meta_row.comment_public_reply) == ("all", [], True)


def test_the_comment_settings_are_saved(shop_a, meta):
    account = link(shop_a, "instagram", INSTAGRAM_A)
    posts = " 17895695668004550 \n\n104857329461722_998877\n17895695668004550\n"
    response = shop_a.client().post(
        PAGE_PATH, {"action": "settings", "account": account.pk, "comment_replies": "some", "comment_posts": posts}
    )
    assert response.status_code == 302
    meta_row = accounts_of(shop_a)[("instagram", INSTAGRAM_A)].meta
    assert meta_row.comment_replies == "some"
    assert meta_row.comment_posts == ["17895695668004550", "104857329461722_998877"]
    assert meta_row.comment_public_reply is False  # the box was not ticked
    body = page_text(shop_a.client())
    assert "17895695668004550\n104857329461722_998877</textarea>" in body
    shop_a.client().post(
        PAGE_PATH,
        {"action": "settings", "account": account.pk, "comment_replies": "off", "comment_public_reply": "on"},
    )
    meta_row = accounts_of(shop_a)[("instagram", INSTAGRAM_A)].meta
    assert (meta_row.comment_replies, meta_row.comment_posts, meta_row.comment_public_reply) == ("off", [], True)


def test_unlinking_stops_the_account_and_keeps_it_off_the_page(shop_a, meta):
    client = shop_a.client()
    client.post(to_pick(client), {"pick": [f"page:{PAGE_A}"]})
    account = accounts_of(shop_a)[("messenger", PAGE_A)]
    assert PAGE_A in meta.subscriptions
    done = client.post(PAGE_PATH, {"action": "unlink", "account": account.pk}, follow=True)
    assert "Messenger: Alpha Boutique is unlinked" in flashed(done)
    assert PAGE_A not in meta.subscriptions and len(meta.calls_to("/subscribed_apps", "DELETE")) == 1
    account = accounts_of(shop_a)[("messenger", PAGE_A)]
    assert (account.status, account.meta.token_encrypted, account.meta.subscribed_fields) == ("disconnected", "", [])
    assert f'data-meta-account="{PAGE_A}"' not in done.content.decode()
    assert client.post(PAGE_PATH, {"action": "unlink", "account": account.pk}).status_code == 404


# --- reconnecting -------------------------------------------------------------------------------


def test_a_banner_on_every_page_until_the_account_is_linked_again(shop_a, meta, add_member):
    client = shop_a.client()
    client.post(to_pick(client), {"pick": [f"page:{PAGE_A}", f"instagram_page:{INSTAGRAM_A}"]})
    for path in ("/dashboard/", "/dashboard/conversations/", PAGE_PATH):
        assert "data-meta-reconnect" not in page_text(client, path)
    instagram = accounts_of(shop_a)[("instagram", INSTAGRAM_A)]
    mark_reconnect(instagram.meta, "Error validating access token: The session has been invalidated.")
    agent = shop_a.client(add_member(shop_a, "agent@alpha.test"))
    for viewer in (client, agent):
        for path in ("/dashboard/", "/dashboard/conversations/", "/dashboard/catalog/"):
            body = page_text(viewer, path)
            assert "Instagram <bdi>@alpha.dz</bdi> must be reconnected" in body, path
            assert f'href="{PAGE_PATH}"' in body
    body = page_text(client)
    assert f'data-meta-account="{INSTAGRAM_A}" data-channel="instagram" data-state="reconnect"' in body
    assert "The session has been invalidated." in body and "Press “Connect with Facebook” and link it again." in body
    assert "Messenger <bdi>Alpha Boutique</bdi> must be reconnected" not in body

    client.post(to_pick(client), {"pick": [f"instagram_page:{INSTAGRAM_A}"]})  # linked again
    instagram = accounts_of(shop_a)[("instagram", INSTAGRAM_A)]
    assert (instagram.status, instagram.meta.state, instagram.meta.state_reason) == ("connected", "ok", "")
    assert "data-meta-reconnect" not in page_text(client, "/dashboard/")


def test_another_shops_reconnect_is_not_shown(shop_a, shop_b, meta):
    bravo = link(shop_b, "instagram", "17841400000000999")
    mark_reconnect(MetaAccount.objects.get(account=bravo), "expired")
    assert "data-meta-reconnect" not in page_text(shop_a.client(), "/dashboard/")
    assert "data-meta-reconnect" in page_text(shop_b.client(), "/dashboard/")


# --- languages and the inbox ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ("Connecter avec Facebook", "Comptes liés", "Messenger et Instagram")),
        ("ar", ("الربط عبر فيسبوك", "الحسابات المربوطة", 'dir="rtl"')),
    ],
)
def test_the_page_speaks_french_and_arabic(shop_a, meta, language, words):
    link(shop_a, "messenger", PAGE_A)
    body = shop_a.client().get(PAGE_PATH, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    for word in words:
        assert word in body


def inbound(channel: str, account_id: int, sender: str, text: str) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        channel_account_id=account_id,
        sender_id=sender,
        external_id=f"mid.{channel}.{sender}",
        text=text,
        timestamp=timezone.now(),
        sender_name=f"Client {channel}",
    )


def test_the_inbox_shows_each_channel_as_a_badge(shop_a, meta):
    page = link(shop_a, "messenger", PAGE_A)
    instagram = link(shop_a, "instagram", INSTAGRAM_A)
    with shop_a.schema():
        messenger_chat = ingest(inbound("messenger", page.pk, "psid-1", "Salam"), reply=False).conversation_id
        ingest(inbound("instagram", instagram.pk, "igsid-1", "Bonjour"), reply=False)
        ingest(inbound("widget", 1, "visitor-1", "Hello"), reply=False)
    client = shop_a.client()
    listing = page_text(client, "/dashboard/conversations/")
    for channel, name in (("messenger", "Messenger"), ("instagram", "Instagram"), ("widget", "Web chat")):
        badge = f'<span class="channel-badge channel-{channel}" data-channel-badge="{channel}">'
        assert badge in listing
        assert f'<span class="channel-name">{name}</span>' in listing  # the text beside the icon
    assert 'aria-hidden="true"' in listing  # the icon is decoration
    thread = page_text(client, f"/dashboard/conversations/{messenger_chat}/")
    assert 'data-channel-badge="messenger"' in thread
    arabic = client.get("/dashboard/conversations/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<span class="channel-name">الدردشة على الموقع</span>' in arabic


def test_the_platforms_return_address_sends_on_only_to_a_shop_that_exists(shop_a):
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    known = client.get("/meta/oauth/instagram/", {"code": "c", "state": f"{shop_a.seller.slug}.abc"})
    assert known.status_code == 302
    assert known["Location"].startswith(f"http://{shop_a.host}/dashboard/channels/meta/callback/instagram/?")
    for state in ("nobody.abc", "no-dot", "", "../evil.com.x"):
        assert client.get("/meta/oauth/instagram/", {"code": "c", "state": state}).status_code == 400
