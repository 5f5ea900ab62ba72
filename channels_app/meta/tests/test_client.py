"""The Graph client against the loopback Graph server: each endpoint's request as Meta reads it
(method, path, parameters, body, token) and the answer as the client returns it; every error
kind from Meta's error JSON; tokens kept out of errors and logs; the OAuth flows of Facebook
Login and Instagram Login end to end, dialogs included."""

from __future__ import annotations

import datetime as dt
import json
import logging
import pickle
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from channels_app.meta import client as meta
from channels_app.meta.client import GraphClient, GraphError, MetaApp, Token, error_kind
from channels_app.meta.testing import LONG_LIVED_SECONDS, GraphServer

VERSION = "v26.0"
PAGE_ID = "1050001"
PAGE_TOKEN = "EAAPAGE-token-of-the-shop-page"
IG_ACCOUNT = {"id": "17841400000000777", "username": "shop.dz", "name": "Shop DZ", "profile_picture_url": ""}


@pytest.fixture
def graph() -> Iterator[GraphServer]:
    with GraphServer() as server:
        server.add_page(PAGE_ID, "Boutique Amina", PAGE_TOKEN, ig_account=IG_ACCOUNT)
        yield server
    assert not server.errors, server.errors[0]
    meta.close_shared_http()


@pytest.fixture
def page(graph: GraphServer) -> GraphClient:
    return GraphClient(base_url=graph.url, version=VERSION, access_token=PAGE_TOKEN, timeout=5)


def app_for(graph: GraphServer, *, instagram: bool = False) -> MetaApp:
    return MetaApp(
        app_id=graph.ig_app_id if instagram else graph.app_id,
        app_secret=graph.ig_app_secret if instagram else graph.app_secret,
        graph_url=graph.url,
        dialog_url=graph.url,
        version=VERSION,
        oauth_url=graph.url,
        timeout=5,
    )


# --- each endpoint: the request and the answer ------------------------------------------


def test_send_text_posts_the_send_api_body_with_the_page_token(graph: GraphServer, page: GraphClient) -> None:
    message_id = page.send({"id": "psid-7"}, message={"text": "السلام عليكم 👋"})

    (call,) = graph.calls_to("me/messages")
    assert (call.method, call.path, call.access_token) == ("POST", f"/{VERSION}/me/messages", PAGE_TOKEN)
    assert call.query == {"access_token": PAGE_TOKEN}
    assert call.body == {
        "recipient": {"id": "psid-7"},
        "messaging_type": "RESPONSE",
        "message": {"text": "السلام عليكم 👋"},
    }
    assert message_id.startswith("m_") and graph.messages[-1]["message_id"] == message_id
    assert graph.messages[-1]["sender"] == PAGE_ID


def test_sender_action_is_sent_alone_and_returns_no_id(graph: GraphServer, page: GraphClient) -> None:
    assert page.send({"id": "psid-7"}, sender_action="typing_on") == ""
    assert graph.calls_to("me/messages")[0].body == {"recipient": {"id": "psid-7"}, "sender_action": "typing_on"}
    assert graph.messages == []
    with pytest.raises(ValueError):
        page.send({"id": "psid-7"}, message={"text": "x"}, sender_action="typing_on")
    with pytest.raises(ValueError):
        page.send({"id": "psid-7"})


def test_a_tag_makes_a_message_tag_send(graph: GraphServer, page: GraphClient) -> None:
    page.send({"id": "psid-7"}, message={"text": "Votre commande est prête."}, tag="HUMAN_AGENT")
    body = graph.calls_to("me/messages")[0].body
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_private_reply_addresses_the_comment(graph: GraphServer, page: GraphClient) -> None:
    message_id = page.send({"comment_id": "post_1_comment_9"}, message={"text": "Je vous écris en privé."})
    assert graph.calls_to("me/messages")[0].body["recipient"] == {"comment_id": "post_1_comment_9"}
    assert graph.messages[-1]["message_id"] == message_id


def test_user_profile_asks_for_the_fields(graph: GraphServer, page: GraphClient) -> None:
    graph.add_user("psid-7", first_name="Yacine", last_name="B.", profile_pic="https://cdn.example/p.jpg")
    profile = page.user_profile("psid-7", ("first_name", "last_name", "profile_pic"))
    assert profile == {
        "id": "psid-7",
        "first_name": "Yacine",
        "last_name": "B.",
        "profile_pic": "https://cdn.example/p.jpg",
    }
    call = graph.calls_to("/psid-7")[0]
    assert (call.method, call.path, call.query["fields"]) == (
        "GET",
        f"/{VERSION}/psid-7",
        "first_name,last_name,profile_pic",
    )
    with pytest.raises(GraphError) as unknown:
        page.user_profile("psid-404", ("first_name",))
    assert (unknown.value.code, unknown.value.subcode, unknown.value.kind) == (100, 33, "invalid")


def test_subscribe_app_sends_the_fields_as_a_comma_list(graph: GraphServer, page: GraphClient) -> None:
    page.subscribe_app(PAGE_ID, ("messages", "messaging_postbacks", "message_reads", "feed"))
    call = graph.calls_to("subscribed_apps")[0]
    assert (call.method, call.path) == ("POST", f"/{VERSION}/{PAGE_ID}/subscribed_apps")
    assert call.query["subscribed_fields"] == "messages,messaging_postbacks,message_reads,feed"
    assert graph.subscriptions[PAGE_ID] == ["messages", "messaging_postbacks", "message_reads", "feed"]


def test_messenger_profile_is_set_and_deleted(graph: GraphServer, page: GraphClient) -> None:
    profile = {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": "default", "text": "Marhba bik!"}],
        "ice_breakers": [{"call_to_actions": [{"question": "Prix ?", "payload": "PRICE"}], "locale": "default"}],
    }
    page.set_messenger_profile(profile)
    assert graph.calls_to("messenger_profile", "POST")[0].body == profile
    page.delete_messenger_profile(("greeting", "ice_breakers"))
    assert graph.calls_to("messenger_profile", "DELETE")[0].body == {"fields": ["greeting", "ice_breakers"]}
    assert graph.profiles[PAGE_ID] == {"get_started": {"payload": "GET_STARTED"}}


@pytest.mark.parametrize(
    ("platform", "edge"), [("instagram", "replies"), ("messenger", "comments"), ("facebook", "comments")]
)
def test_public_comment_reply_posts_the_text_in_the_form(
    graph: GraphServer, page: GraphClient, platform: str, edge: str
) -> None:
    reply_id = page.reply_to_comment("c-42", "Prix envoyé en DM 📩", platform=platform)
    call = graph.calls_to(f"c-42/{edge}")[0]
    assert (call.method, call.body, call.access_token) == ("POST", {"message": "Prix envoyé en DM 📩"}, PAGE_TOKEN)
    assert "message" not in call.query  # customer text stays out of URLs (and so of logs)
    assert graph.comment_replies[-1] == {
        "comment_id": "c-42",
        "edge": edge,
        "message": "Prix envoyé en DM 📩",
        "sender": PAGE_ID,
        "id": reply_id,
    }


def test_comment_reply_on_another_platform_is_refused(page: GraphClient) -> None:
    with pytest.raises(ValueError):
        page.reply_to_comment("c-1", "x", platform="whatsapp")


def test_accounts_reads_every_page_of_results_on_its_own_host(graph: GraphServer) -> None:
    graph.accounts_page_size = 2
    for n in range(2, 6):
        graph.add_page(f"10500{n:02d}", f"Page {n}", f"EAAPAGE-{n}-token-xyz")
    user_token = graph.issue_token("user", graph.user_id, ("pages_show_list",), LONG_LIVED_SECONDS)
    pages = GraphClient(base_url=graph.url, version=VERSION, access_token=user_token).accounts()

    assert [p["id"] for p in pages] == [PAGE_ID, "1050002", "1050003", "1050004", "1050005"]
    assert pages[0]["access_token"] == PAGE_TOKEN and pages[0]["tasks"] == ["MESSAGING", "MODERATE", "MANAGE"]
    assert pages[0]["instagram_business_account"] == IG_ACCOUNT
    calls = graph.calls_to("me/accounts")
    assert len(calls) == 3 and all(c.access_token == user_token for c in calls)
    assert calls[0].query["fields"] == meta.ACCOUNT_FIELDS and "after" not in calls[0].query
    assert calls[1].query["after"] and calls[1].query["fields"] == meta.ACCOUNT_FIELDS


def test_accounts_reads_next_for_its_path_and_cursor_only(graph: GraphServer) -> None:
    """A next link naming another host is read for its path and cursor; the token goes to base_url."""
    client = GraphClient(base_url=graph.url, version=VERSION, access_token="t")
    path, params = client._next_page(f"https://evil.example/{VERSION}/me/accounts?after=Mg&access_token=leak&limit=2")
    assert (path, params) == (f"/{VERSION}/me/accounts", {"after": "Mg", "limit": "2"})


def test_me_and_debug_token(graph: GraphServer, page: GraphClient) -> None:
    assert page.me(("id", "name")) == {"id": PAGE_ID, "name": "Boutique Amina"}
    assert graph.calls_to("/me")[0].query["fields"] == "id,name"
    user_token = graph.issue_token("user", graph.user_id, ("pages_messaging", "pages_show_list"), LONG_LIVED_SECONDS)

    info = page.debug_token(user_token, app_for(graph).app_token)

    call = graph.calls_to("debug_token")[0]
    assert call.query["input_token"] == user_token and call.access_token == f"{graph.app_id}|{graph.app_secret}"
    assert info["is_valid"] is True and info["scopes"] == ["pages_messaging", "pages_show_list"]
    assert info["expires_at"] > dt.datetime.now(dt.UTC).timestamp() + 59 * 86400
    graph.expire(user_token)
    assert page.debug_token(user_token, app_for(graph).app_token)["is_valid"] is False


def test_clients_of_one_host_share_one_pool_and_its_connections(graph: GraphServer) -> None:
    first = GraphClient(base_url=graph.url, version=VERSION, access_token=PAGE_TOKEN)
    second = GraphClient(base_url=graph.url + "/", version=VERSION, access_token=PAGE_TOKEN)
    assert first._http is second._http
    assert GraphClient(base_url="http://127.0.0.1:9", version=VERSION, access_token="x")._http is not first._http
    for n in range(5):
        (first if n % 2 else second).send({"id": f"psid-{n}"}, message={"text": "ok"})
    assert len({c.peer for c in graph.calls_to("me/messages")}) == 1  # one kept-alive connection


def test_shared_pool_is_safe_across_threads(graph: GraphServer, page: GraphClient) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        message_id = page.send({"id": f"psid-{n}"}, message={"text": f"n{n}"})
        with lock:
            ids.append(message_id)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 40 and len(graph.messages) == 40


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "subcode", "status", "kind"),
    [
        (190, None, 400, "reconnect"),
        (190, 463, 400, "reconnect"),
        (102, None, 400, "reconnect"),
        (2, None, 500, "temporary"),
        (1200, None, 400, "temporary"),
        (613, None, 400, "rate_limited"),
        (4, 2018022, 400, "rate_limited"),
        (80006, None, 400, "rate_limited"),
        (10, 2018278, 400, "window_closed"),
        (10, 2534022, 400, "window_closed"),
        (551, 1545041, 400, "unavailable"),
        (100, 2018001, 400, "unavailable"),
        (10, 1893063, 400, "restricted"),
        (200, None, 403, "restricted"),
        (100, None, 400, "invalid"),
    ],
)
def test_meta_errors_map_to_kinds(
    graph: GraphServer, page: GraphClient, code: int, subcode: int | None, status: int, kind: str
) -> None:
    graph.fail("me/messages", code, subcode, status=status, message=f"(#{code}) as Meta says it")
    with pytest.raises(GraphError) as caught:
        page.send({"id": "psid-7"}, message={"text": "Salam"})
    error = caught.value
    assert (error.code, error.subcode, error.status, error.kind) == (code, subcode, status, kind)
    assert error.retryable is (kind in {"temporary", "rate_limited"})
    assert error.message == f"(#{code}) as Meta says it"
    assert error.fbtrace_id
    assert page.send({"id": "psid-7"}, message={"text": "Salam"})  # failed once only (times=1)


def test_rate_limit_carries_retry_after(graph: GraphServer, page: GraphClient) -> None:
    graph.fail("me/messages", 613, retry_after=30)
    with pytest.raises(GraphError) as caught:
        page.send({"id": "psid-7"}, message={"text": "Salam"})
    assert (caught.value.kind, caught.value.retry_after) == ("rate_limited", 30.0)


def test_rate_limit_wait_from_the_business_use_case_header(graph: GraphServer, page: GraphClient) -> None:
    usage = json.dumps({PAGE_ID: [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 3}]})
    graph.fail("me/messages", 80006, headers={"X-Business-Use-Case-Usage": usage})
    with pytest.raises(GraphError) as caught:
        page.send({"id": "psid-7"}, message={"text": "Salam"})
    assert (caught.value.kind, caught.value.retry_after) == ("rate_limited", 180.0)


def test_http_429_without_a_graph_error_is_a_rate_limit(graph: GraphServer, page: GraphClient) -> None:
    graph.fail("me/messages", None, status=429, retry_after=2)
    with pytest.raises(GraphError) as caught:
        page.send({"id": "psid-7"}, message={"text": "Salam"})
    assert (caught.value.code, caught.value.kind, caught.value.retry_after) == (0, "rate_limited", 2.0)


def test_a_500_page_that_is_not_json_is_temporary(graph: GraphServer, page: GraphClient) -> None:
    graph.fail("me/messages", None, status=502)
    with pytest.raises(GraphError) as caught:
        page.send({"id": "psid-7"}, message={"text": "Salam"})
    assert (caught.value.status, caught.value.kind, caught.value.retryable) == (502, "temporary", True)


def test_is_transient_makes_an_unknown_code_temporary(graph: GraphServer, page: GraphClient) -> None:
    graph.fail("me/messages", 12345, transient=True)
    with pytest.raises(GraphError) as caught:
        page.send({"id": "psid-7"}, message={"text": "Salam"})
    assert caught.value.kind == "temporary"


def test_connection_refused_is_temporary() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(base_url=f"http://127.0.0.1:{port}", version=VERSION, access_token=PAGE_TOKEN, timeout=2)
    with pytest.raises(GraphError) as caught:
        client.send({"id": "psid-7"}, message={"text": "Salam"})
    assert (caught.value.status, caught.value.kind, caught.value.retryable) == (0, "temporary", True)
    assert PAGE_TOKEN not in str(caught.value)
    meta.close_shared_http()


def test_a_peer_that_never_answers_times_out_as_temporary() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = GraphClient(base_url=url, version=VERSION, access_token=PAGE_TOKEN, timeout=0.3)
        with pytest.raises(GraphError) as caught:
            client.me(("id",))
    assert caught.value.kind == "temporary" and "timed out" in caught.value.message
    meta.close_shared_http()


def test_expired_and_unknown_tokens_ask_to_reconnect(graph: GraphServer, page: GraphClient) -> None:
    graph.expire(PAGE_TOKEN)
    with pytest.raises(GraphError) as expired:
        page.send({"id": "psid-7"}, message={"text": "Salam"})
    assert (expired.value.code, expired.value.subcode, expired.value.kind) == (190, 463, "reconnect")
    stranger = GraphClient(base_url=graph.url, version=VERSION, access_token="EAA-never-issued")
    with pytest.raises(GraphError) as unknown:
        stranger.me(("id",))
    assert (unknown.value.code, unknown.value.kind) == (190, "reconnect")


def test_the_token_never_reaches_errors_or_logs(
    graph: GraphServer, page: GraphClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    page.send({"id": "psid-7"}, message={"text": "Salam"})
    graph.fail("me/messages", 190, message=f"Malformed access token {PAGE_TOKEN}")  # Meta quotes it
    with pytest.raises(GraphError) as caught:
        page.send({"id": "psid-7"}, message={"text": "Salam"})

    assert PAGE_TOKEN not in str(caught.value) and PAGE_TOKEN not in repr(caught.value)
    assert "Malformed access token ***" in str(caught.value)
    assert PAGE_TOKEN not in repr(page)
    assert "HTTP Request: POST" in caplog.text  # httpx logged the URLs, masked
    assert "access_token=***" in caplog.text and PAGE_TOKEN not in caplog.text


def test_graph_error_survives_pickling() -> None:
    error = GraphError("window", code=10, subcode=2018278, status=400, retry_after=None)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own object)
    assert (copy.code, copy.subcode, copy.status, copy.kind, str(copy)) == (
        10,
        2018278,
        400,
        "window_closed",
        str(error),
    )


@pytest.mark.parametrize(
    ("code", "subcode", "status", "kind"),
    [
        (17, None, 400, "rate_limited"),
        (32, None, 400, "rate_limited"),
        (80001, None, 400, "rate_limited"),
        (80009, None, 400, "rate_limited"),
        (0, None, 429, "rate_limited"),
        (0, None, 503, "temporary"),
        (0, None, 0, "temporary"),
        (1, None, 500, "temporary"),
        (10, 2018108, 400, "window_closed"),
        (10, 2018065, 400, "window_closed"),
        (200, 1545041, 400, "unavailable"),
        (100, 2534014, 400, "unavailable"),
        (230, None, 400, "unavailable"),
        (368, None, 400, "restricted"),
        (10, None, 400, "restricted"),
        (190, 460, 400, "reconnect"),
        (100, 33, 400, "invalid"),
        (0, None, 404, "invalid"),
    ],
)
def test_error_kind_table(code: int, subcode: int | None, status: int, kind: str) -> None:
    assert error_kind(code, subcode, status) == kind


# --- OAuth ---------------------------------------------------------------------------------


def test_dialog_urls_carry_the_app_redirect_state_and_scopes(graph: GraphServer) -> None:
    facebook = urlsplit(
        meta.facebook_dialog_url(
            "st-1", "https://shop.example/cb", ("pages_messaging", "pages_show_list"), app=app_for(graph)
        )
    )
    assert facebook.path == f"/{VERSION}/dialog/oauth"
    assert parse_qs(facebook.query) == {
        "client_id": [graph.app_id],
        "redirect_uri": ["https://shop.example/cb"],
        "state": ["st-1"],
        "response_type": ["code"],
        "scope": ["pages_messaging,pages_show_list"],
    }
    instagram = urlsplit(
        meta.instagram_dialog_url(
            "st-2", "https://shop.example/ig", ("instagram_business_basic",), app=app_for(graph, instagram=True)
        )
    )
    assert instagram.path == "/oauth/authorize"
    assert parse_qs(instagram.query) == {
        "client_id": [graph.ig_app_id],
        "redirect_uri": ["https://shop.example/ig"],
        "response_type": ["code"],
        "scope": ["instagram_business_basic"],
        "state": ["st-2"],
    }


def test_apps_from_settings(settings: Any) -> None:
    settings.META_APP_ID, settings.META_APP_SECRET = "app-1", "secret-1"
    settings.META_INSTAGRAM_APP_ID = settings.META_INSTAGRAM_APP_SECRET = ""
    settings.META_INSTAGRAM_OAUTH_URL = "https://api.instagram.com"
    instagram = MetaApp.instagram()
    assert (instagram.app_id, instagram.app_secret, instagram.oauth_url) == (
        "app-1",
        "secret-1",
        "https://api.instagram.com",
    )
    settings.META_INSTAGRAM_APP_ID, settings.META_INSTAGRAM_APP_SECRET = "ig-1", "ig-secret-1"
    assert (MetaApp.instagram().app_id, MetaApp.facebook().app_id) == ("ig-1", "app-1")
    assert "secret-1" not in repr(MetaApp.facebook())


def follow_dialog(url: str) -> dict[str, str]:
    """What the browser brings back to the redirect URI (the dialog answers 302 at once)."""
    response = httpx.get(url, follow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" in {
        "https://shop.example/cb",
        "https://shop.example/ig",
    }
    return {k: v[0] for k, v in parse_qs(location.query).items()} | {"#": location.fragment}


def test_facebook_login_from_dialog_to_page_tokens(graph: GraphServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app = app_for(graph)
    redirect = follow_dialog(
        meta.facebook_dialog_url("state-9", "https://shop.example/cb", ("pages_messaging",), app=app)
    )
    assert redirect["state"] == "state-9" and redirect["code"]

    short = meta.facebook_exchange_code(redirect["code"], "https://shop.example/cb", app=app)
    exchange = graph.calls_to("oauth/access_token")[0]
    assert (exchange.method, exchange.path) == ("GET", f"/{VERSION}/oauth/access_token")
    assert exchange.query == {
        "client_id": graph.app_id,
        "client_secret": graph.app_secret,
        "redirect_uri": "https://shop.example/cb",
        "code": redirect["code"],
    }
    assert graph.is_valid(short.access_token) and short.expires_at is not None
    assert short.expires_at - dt.datetime.now(dt.UTC) < dt.timedelta(hours=1, minutes=1)

    long = meta.facebook_long_lived(short.access_token, app=app)
    assert graph.calls_to("oauth/access_token")[1].query == {
        "grant_type": "fb_exchange_token",
        "client_id": graph.app_id,
        "client_secret": graph.app_secret,
        "fb_exchange_token": short.access_token,
    }
    assert long.expires_at is not None and long.expires_at - dt.datetime.now(dt.UTC) > dt.timedelta(days=59)
    assert graph.tokens[long.access_token].scopes == ("pages_messaging",)
    pages = GraphClient(base_url=graph.url, version=VERSION, access_token=long.access_token).accounts()
    assert [(p["id"], p["access_token"]) for p in pages] == [(PAGE_ID, PAGE_TOKEN)]

    with pytest.raises(GraphError) as reused:  # a code serves once
        meta.facebook_exchange_code(redirect["code"], "https://shop.example/cb", app=app)
    assert (reused.value.code, reused.value.subcode, reused.value.kind) == (100, 36009, "invalid")
    for secret in (graph.app_secret, redirect["code"], short.access_token, long.access_token):
        assert secret not in caplog.text


def test_facebook_exchange_with_another_redirect_uri_or_secret_fails(graph: GraphServer) -> None:
    app = app_for(graph)
    code = follow_dialog(meta.facebook_dialog_url("s", "https://shop.example/cb", ("pages_messaging",), app=app))[
        "code"
    ]
    with pytest.raises(GraphError) as other_uri:
        meta.facebook_exchange_code(code, "https://elsewhere.example/cb", app=app)
    assert other_uri.value.subcode == 36008
    wrong = MetaApp(**{**app.__dict__, "app_secret": "not-the-secret"})
    with pytest.raises(GraphError) as wrong_secret:
        meta.facebook_exchange_code(code, "https://shop.example/cb", app=wrong)
    assert "not-the-secret" not in str(wrong_secret.value) and wrong_secret.value.kind == "invalid"


def test_refused_dialog_brings_the_error_and_state_back(graph: GraphServer) -> None:
    graph.deny_dialog = True
    redirect = follow_dialog(
        meta.facebook_dialog_url("st-x", "https://shop.example/cb", ("pages_messaging",), app=app_for(graph))
    )
    assert (redirect["error"], redirect["error_reason"], redirect["state"]) == ("access_denied", "user_denied", "st-x")
    assert "code" not in redirect


@pytest.mark.parametrize("wrapped", [True, False])
def test_instagram_login_from_dialog_to_refreshed_token(graph: GraphServer, wrapped: bool) -> None:
    graph.ig_exchange_wrapped = wrapped  # {"data": [...]} or flat: both are answered by Meta
    app = app_for(graph, instagram=True)
    scopes = ("instagram_business_basic", "instagram_business_manage_messages", "instagram_business_manage_comments")
    redirect = follow_dialog(meta.instagram_dialog_url("st-ig", "https://shop.example/ig", scopes, app=app))
    assert redirect["state"] == "st-ig" and redirect["#"] == "_"  # Instagram appends #_

    short = meta.instagram_exchange_code(redirect["code"], "https://shop.example/ig", app=app)
    exchange = graph.calls_to("/oauth/access_token", "POST")[0]
    assert exchange.path == "/oauth/access_token" and exchange.body == {
        "client_id": graph.ig_app_id,
        "client_secret": graph.ig_app_secret,
        "grant_type": "authorization_code",
        "redirect_uri": "https://shop.example/ig",
        "code": redirect["code"],
    }
    assert short == Token(
        access_token=short.access_token,
        expires_at=short.expires_at,
        user_id=graph.instagram_login["user_id"],
        scopes=scopes,
    )

    long = meta.instagram_long_lived(short.access_token, app=app)
    call = graph.calls_to("/access_token", "GET")[-1]
    assert (call.path, call.query) == (
        "/access_token",
        {"grant_type": "ig_exchange_token", "client_secret": graph.ig_app_secret, "access_token": short.access_token},
    )
    refreshed = meta.instagram_refresh(long.access_token, app=app)
    call = graph.calls_to("refresh_access_token")[0]
    assert call.query == {"grant_type": "ig_refresh_token", "access_token": long.access_token}
    assert refreshed.expires_at is not None and refreshed.expires_at - dt.datetime.now(dt.UTC) > dt.timedelta(days=59)

    ig = GraphClient(base_url=graph.url, version=VERSION, access_token=refreshed.access_token)
    assert ig.me(("user_id", "username"))["username"] == graph.instagram_login["username"]
    ig.subscribe_app("me", ("messages", "comments"))
    assert graph.subscriptions[graph.instagram_login["user_id"]] == ["messages", "comments"]


def test_instagram_code_errors_in_instagrams_own_shape(graph: GraphServer) -> None:
    with pytest.raises(GraphError) as caught:
        meta.instagram_exchange_code("code-unknown", "https://shop.example/ig", app=app_for(graph, instagram=True))
    assert caught.value.message == "Invalid verification code format." and caught.value.kind == "invalid"


def test_instagram_sends_are_held_to_1000_characters(graph: GraphServer) -> None:
    token = graph.issue_token("instagram", graph.instagram_login["user_id"], ("instagram_business_manage_messages",))
    ig = GraphClient(base_url=graph.url, version=VERSION, access_token=token)
    ig.send({"id": "igsid-1"}, message={"text": "ا" * 1000})
    with pytest.raises(GraphError) as caught:
        ig.send({"id": "igsid-1"}, message={"text": "ا" * 1001})
    assert (caught.value.code, caught.value.kind) == (100, "invalid")
