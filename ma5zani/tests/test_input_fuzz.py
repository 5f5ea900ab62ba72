"""Property-based fuzzing of every input boundary (Hypothesis): the widget over HTTP and websocket,
the dashboard's filters and forms, the REST API, the CSV imports, sign-in and sign-up.

Generated input holds NUL characters, lone surrogates (raw in Python strings, and as \\ud800
escapes in JSON bytes, which is how they cross the wire), bytes that are not UTF-8, JSON nested
thousands deep, odd numbers ("²", "٣", "-1", "1e400", thousands of digits), lists where strings
are expected and odd keys. Whatever arrives: no 5xx, no websocket closed by a failure (1011), and
an input refused stores nothing (the row counts stay); a widget message accepted is stored as
sent. Derandomized with no example database, so every run tries the same inputs.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from channels_app.widget.services import widget_account_ensure, widget_settings_update
from conversations.models import ChannelIdentity, Conversation, Customer, Message
from learning.models import KnowledgeEntry
from ma5zani.testing import committed_db
from sales.models import CatalogImport, Order, Product
from sales.tests.test_catalog_pages import product_post
from sellers.models import Seller, User

SITE = "https://alpha-boutique.dz"
VISITOR = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one shop for all examples of a test, on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

# --- Strategies ----------------------------------------------------------------------------

SPECIALS = [
    "\x00", "\ud800", "\udfff", "\udc80", "\ud83d", "\U0001f600", "\u202e", "\ufeff", "\u200b", "\x7f",
    "²", "٣", "١٢", "𝟙", "\n", "\r\n", "\t", "'", '"', "\\", "%00", "<b>", "é", "بيع", "ⵣ",
]  # fmt: skip
ODD_NUMBERS = [
    "²", "٣", "١٢٣", "-1", "1e400", "9" * 40, "9" * 5000, "0x1f", "+1", " 1", "1 ", "1.5", "NaN", "Infinity",
    "", "00", str(2**63), str(2**63 - 1), "1_000", "0", "1",
]  # fmt: skip

any_text = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=24),  # every category, surrogates too
    st.lists(st.one_of(st.sampled_from(SPECIALS), st.text(max_size=4)), max_size=5).map("".join),
)
odd_number = st.one_of(st.sampled_from(ODD_NUMBERS), st.integers().map(str))
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**30), st.floats(), any_text, odd_number
)
json_value = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3), max_leaves=8
)
uuid_text = st.uuids().map(str)


def _dumps(value: Any) -> str:
    """JSON text as a client sends it: lone surrogates become \\udXXX escapes, NaN stays NaN."""
    return json.dumps(value)


RAW_JSON = [
    '{"text": 1e400}',
    '{"text": NaN}',
    '{"after": 1' + "0" * 5000 + "}",
    f'{{"type": "message", "text": "\\u0000", "client_id": "{uuid.UUID(int=1)}"}}',
    f'{{"type": "message", "text": "a\\ud800b", "client_id": "{uuid.UUID(int=2)}"}}',
    f'{{"type": "message", "text": "hi", "client_id": "{uuid.UUID(int=3)}", "\\udfff": 1}}',
    f'{{"type": "message", "text": "hi", "client_id": "{uuid.UUID(int=4)}", "name": "\\u0000"}}',
    "[" * 5000 + "]" * 5000,
    '{"a":' * 3000 + "1" + "}" * 3000,
    "",
    "null",
    '"just a string"',
]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def message_shaped(extra: dict[str, Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "history", "ping"]) | any_text},
        optional={
            "text": any_text | json_value,
            "client_id": uuid_text | any_text | json_value,
            "name": any_text | json_value,
            "after": st.integers() | odd_number | json_value,
            "visitor": st.just(VISITOR) | any_text | json_value,
            **(extra or {}),
        },
    )


valid_message = st.fixed_dictionaries(
    {"type": st.just("message"), "text": any_text, "client_id": uuid_text}, optional={"name": any_text}
)
json_text = st.one_of(
    valid_message.map(_dumps),
    message_shaped().map(_dumps),
    json_value.map(_dumps),
    st.integers(min_value=1, max_value=3000).map(nested),
    st.sampled_from(RAW_JSON),
)
body_bytes = st.one_of(json_text.map(lambda text: text.encode()), st.binary(max_size=64))


def _wire(text: str) -> bytes:
    """What a client can put on the wire for a string: its UTF-8 bytes, lone surrogates too."""
    return text.encode("utf-8", "surrogatepass")


query_part = st.one_of(st.binary(max_size=12), any_text.map(_wire), odd_number.map(str.encode))


def query_string(names: list[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(names).map(str.encode) | query_part, query_part)
    return st.lists(pair, max_size=4).map(
        lambda pairs: "&".join(f"{quote_from_bytes(k)}={quote_from_bytes(v)}" for k, v in pairs)
    )


# --- Fixtures and helpers ------------------------------------------------------------------


def counts(schema: str) -> tuple[int, ...]:
    with schema_context(schema):
        models = (Message, Customer, Conversation, ChannelIdentity, Order, Product, KnowledgeEntry, CatalogImport)
        seller_rows = tuple(model.objects.count() for model in models)
    return (*seller_rows, User.objects.count(), Seller.objects.count())


def assert_handled(response: Any, before: tuple[int, ...], schema: str) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert counts(schema) == before, "an input that was refused stored something"


@pytest.fixture
def widget(shop_a, monkeypatch, settings):
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_delivery", lambda *a, **k: None)
    settings.WIDGET_RATE_LIMIT_VISITOR = "100000/minute"
    return widget_settings_update(account=widget_account_ensure(shop_a.seller), origins=[SITE])


def public_client() -> Client:
    return Client(HTTP_HOST="localhost", HTTP_ORIGIN=SITE, raise_request_exception=False)


def seller_client(shop) -> Client:
    client = shop.client()
    client.raise_request_exception = False
    return client


# --- The widget over HTTP ------------------------------------------------------------------


# Mostly a message a visitor could send (so that acceptance is tried too), else anything.
widget_post_body = st.one_of(
    st.tuples(valid_message, st.just(VISITOR)).map(lambda parts: _dumps({**parts[0], "visitor": parts[1]}).encode()),
    st.tuples(valid_message, st.just(VISITOR)).map(lambda parts: _dumps({**parts[0], "visitor": parts[1]}).encode()),
    st.tuples(message_shaped(), st.just(VISITOR) | any_text | json_value).map(
        lambda parts: _dumps({"visitor": parts[1], **parts[0]}).encode()
    ),
    body_bytes,
)


@pytest.mark.django_db
@settings(FUZZ, max_examples=60)
@given(body=widget_post_body)
@example(body=_dumps({"text": "a\x00b", "client_id": str(uuid.UUID(int=5)), "visitor": VISITOR}).encode())
@example(body=f'{{"text": "\\ud800", "client_id": "{uuid.UUID(int=6)}", "visitor": "{VISITOR}"}}'.encode())
@example(body=nested(5000).encode())
def test_widget_post(widget, shop_a, body):
    schema = shop_a.seller.schema_name
    before = counts(schema)
    response = public_client().post(
        f"/widget/v1/messages?key={widget.external_id}", body, content_type="application/json"
    )
    assert_handled(response, before, schema)
    event(f"status {response.status_code} {response.content[:40]!r}")
    if response.status_code == 201:  # (200: a client_id sent before, its first text kept)
        with shop_a.schema():
            stored = Message.objects.get(pk=response.json()["id"])
        assert stored.text == json.loads(body)["text"].strip()


@pytest.mark.django_db
@settings(FUZZ, max_examples=30)
@given(query=query_string(["key", "visitor", "after"]))
@example(query=f"key=KEY&visitor={VISITOR}&after=%C2%B2")  # "²": isdigit() says yes, int() says no
@example(query=f"key=KEY&visitor={VISITOR}&after=" + "9" * 40)
@example(query=f"key=wk_%00&visitor={VISITOR}")
def test_widget_get(widget, shop_a, query):
    query = query.replace("KEY", widget.external_id)
    schema = shop_a.seller.schema_name
    before = counts(schema)
    response = public_client().get(f"/widget/v1/messages?{query}")
    assert response.status_code < 500, (response.status_code, response.content[:300])
    assert counts(schema) == before


# --- The widget's websocket ----------------------------------------------------------------


def _frames() -> st.SearchStrategy[str]:
    valid = valid_message.map(_dumps)
    return st.one_of(valid, valid, json_text, any_text, st.binary(max_size=32).map(lambda raw: raw.decode("latin-1")))


@committed_db
@settings(FUZZ, max_examples=50)
@given(frame=_frames())
@example(frame=_dumps({"type": "message", "text": "a\x00b", "client_id": str(uuid.UUID(int=7))}))
@example(frame=f'{{"type": "message", "text": "\\ud800", "client_id": "{uuid.UUID(int=8)}"}}')
@example(frame=_dumps({"type": "message", "text": "hi", "client_id": str(uuid.UUID(int=9)), "name": "\x00"}))
@example(frame=nested(5000))
@example(frame='{"type": "history", "after": 1' + "0" * 30 + "}")
def test_widget_socket_frames(drop_new_sellers, widget, shop_a, frame):
    schema = shop_a.seller.schema_name
    before = counts(schema)

    async def scenario() -> dict[str, Any]:
        socket = WebsocketCommunicator(
            _application(), f"/ws/widget/?key={widget.external_id}&visitor={VISITOR}", headers=_headers()
        )
        connected, _ = await socket.connect(timeout=10)
        assert connected
        assert (await socket.receive_json_from(timeout=10))["type"] == "history"
        await socket.send_input({"type": "websocket.receive", "text": frame})  # "" too
        answer = await socket.receive_json_from(timeout=10)
        await socket.send_json_to({"type": "ping"})  # the connection stays usable
        assert await socket.receive_json_from(timeout=10) == {"type": "pong"}
        await socket.disconnect()
        return answer

    answer = async_to_sync(scenario)()
    event(f"{answer['type']} {answer.get('code', '')}")
    assert answer["type"] in ("ack", "history", "pong", "error"), answer
    if answer["type"] == "ack" and not answer["duplicate"]:
        with shop_a.schema():
            stored = Message.objects.get(pk=answer["id"])
        assert stored.text == json.loads(frame)["text"].strip()
    else:
        assert counts(schema) == before, answer


@committed_db
@settings(FUZZ, max_examples=25)
@given(key=st.just("KEY") | any_text, visitor=st.just(VISITOR) | any_text, origin=st.sampled_from([SITE, "", "x"]))
@example(key="wk_\x00", visitor=VISITOR, origin=SITE)
@example(key="KEY", visitor=VISITOR + "\x00", origin=SITE)
def test_widget_socket_handshake(drop_new_sellers, widget, shop_a, key, visitor, origin):
    key = widget.external_id if key == "KEY" else key
    query = urlencode({"key": _wire(key), "visitor": _wire(visitor)})

    async def scenario() -> dict[str, Any]:
        headers = [(b"host", b"localhost")] + ([(b"origin", origin.encode())] if origin else [])
        socket = WebsocketCommunicator(_application(), f"/ws/widget/?{query}", headers=headers)
        connected, _ = await socket.connect(timeout=10)
        assert connected  # accepted; a refusal is a close with its code after the accept
        output = await socket.receive_output(timeout=10)
        await socket.disconnect()
        return output

    output = async_to_sync(scenario)()
    if output["type"] == "websocket.close":
        assert output["code"] in (4400, 4403, 4404), output
    else:
        assert json.loads(output["text"])["type"] == "history"


def _application():
    from ma5zani.asgi import application

    return application


def _headers() -> list[tuple[bytes, bytes]]:
    return [(b"host", b"localhost"), (b"origin", SITE.encode())]


# --- The dashboard: filters and search boxes -----------------------------------------------

DASHBOARD_PAGES = [
    "/dashboard/catalog/",
    "/dashboard/orders/",
    "/dashboard/orders/export.csv",
    "/dashboard/customers/",
    "/dashboard/conversations/",
    "/dashboard/knowledge/",
    "/dashboard/conversations/{conversation}/messages/",
    "/api/v1/products/",
    "/accounts/handoff/",
]
FILTER_NAMES = ["q", "status", "page", "since", "created_by", "channel", "mode", "partial", "language", "after"]
FILTER_NAMES += ["token"]


@pytest.fixture
def conversation(widget, shop_a) -> dict[str, int]:
    """The ids of a customer's conversation (plain ids: Hypothesis prints its arguments)."""
    from conversations.services import ingest
    from conversations.tests.factories import widget_inbound

    with shop_a.schema():
        found = Conversation.objects.get(pk=ingest(widget_inbound(shop_a, "Salam")).conversation_id)
        return {"conversation": found.pk, "customer": found.customer_id}


@pytest.mark.django_db
@settings(FUZZ, max_examples=60)
@given(page=st.sampled_from(DASHBOARD_PAGES), query=query_string(FILTER_NAMES))
@example(page="/dashboard/catalog/", query="q=a%00b")
@example(page="/dashboard/orders/", query="q=%00&since=2026-13-45")
@example(page="/dashboard/customers/", query="q=%00")
@example(page="/dashboard/conversations/{conversation}/messages/", query="after=%C2%B2")
@example(page="/api/v1/products/", query="q=%00")
def test_dashboard_filters(shop_a, conversation, page, query):
    schema = shop_a.seller.schema_name
    before = counts(schema)
    response = seller_client(shop_a).get(page.format(**conversation) + "?" + query)
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert counts(schema) == before


# --- The dashboard: forms ------------------------------------------------------------------

FORMS = {
    "/dashboard/conversations/{conversation}/reply/": ["text"],
    "/dashboard/knowledge/new/": ["question", "answer", "language"],
    "/dashboard/knowledge/review/": ["entry", "action", "approve_one", "dismiss_one", "next"],
    "/dashboard/customers/{customer}/merge/": ["other"],
    "/dashboard/channels/widget/": ["origins", "regenerate"],
    "/dashboard/orders/new/": ["variant_id", "quantity", "customer_name", "phone", "wilaya", "commune", "address"],
    "/dashboard/settings/bot/": ["persona", "greeting", "max_discount_percent", "handoff_keywords", "language"],
    "/dashboard/settings/delivery/": ["served_16", "home_16", "desk_16", "days_16"],
    "/dashboard/settings/bot/try/": ["text"],
    "/dashboard/catalog/new/": ["name_fr", "price", "code", "synonyms", "delete_image", "variants-TOTAL_FORMS"],
    "/dashboard/team/": ["email", "role"],
    "/dashboard/api/": ["name", "revoke"],
}


@pytest.mark.django_db
@settings(FUZZ, max_examples=60)
@given(path=st.sampled_from(sorted(FORMS)), data=st.data())
@example(path="/dashboard/conversations/{conversation}/reply/", data="text=Bonjour%00")
@example(path="/dashboard/catalog/new/", data=urlencode(product_post(delete_image="²")))
@example(path="/dashboard/knowledge/review/", data="approve_one=%C2%B2")
@example(path="/dashboard/customers/{customer}/merge/", data="other=%C2%B2")
def test_dashboard_forms(shop_a, conversation, path, data):
    # A string: an explicit example's body.
    body = data if isinstance(data, str) else data.draw(query_string(FORMS[path]), label="body")
    schema = shop_a.seller.schema_name
    before = counts(schema)
    url = path.format(**conversation)
    response = seller_client(shop_a).post(url, body, content_type="application/x-www-form-urlencoded")
    event(f"status {response.status_code} {response.content[:60]!r}")
    assert_handled(response, before, schema)


# --- The REST API --------------------------------------------------------------------------


@pytest.fixture
def product(shop_a) -> int:
    from sales.services.catalog import ProductChanges, VariantData, product_save

    with shop_a.schema():
        changes = ProductChanges(fields={"name_fr": "Sac", "price": 1000}, variants=[VariantData(sku="SAC-1", stock=2)])
        return product_save(product=None, changes=changes).pk


product_shaped = st.fixed_dictionaries(
    {"name_fr": any_text | json_value, "price": st.integers() | odd_number | json_value},
    optional={
        "code": any_text | json_value,
        "synonyms": st.lists(any_text, max_size=3) | json_value,
        "category": any_text | json_value,
        "variants": st.lists(
            st.fixed_dictionaries(
                {"sku": any_text | st.just("SKU-1")}, optional={"stock": st.integers() | json_value, "id": json_value}
            ),
            max_size=2,
        )
        | json_value,
        "description_fr": any_text,
    },
)
# A product the API could take, with odd text in it (so that acceptance is tried too).
plausible_product = st.fixed_dictionaries(
    {
        "name_fr": any_text,
        "price": st.integers(min_value=1, max_value=10**6),
        "variants": st.uuids().map(lambda u: [{"sku": f"FZ-{u.hex[:10]}", "stock": 1}]),
    },
    optional={"synonyms": st.lists(any_text, max_size=2), "description_fr": any_text, "name_ar": any_text},
)
# ... and keys of any kind beside the known ones.
product_body = st.one_of(
    plausible_product,
    plausible_product,
    st.tuples(product_shaped, st.dictionaries(any_text, json_value, max_size=2)).map(
        lambda parts: {**parts[1], **parts[0]}
    ),
)


@pytest.mark.django_db
@settings(FUZZ, max_examples=40)
@given(body=st.one_of(product_body.map(_dumps).map(str.encode), body_bytes), method=st.sampled_from(["post", "patch"]))
@example(body=b'{"name_fr": "a\\u0000", "price": 10, "variants": [{"sku": "A-1"}]}', method="post")
@example(body=b'{"name_fr": "\\ud800", "price": 10, "variants": [{"sku": "A-1"}]}', method="patch")
@example(body=nested(5000).encode(), method="post")
def test_rest_api(shop_a, product, body, method):
    schema = shop_a.seller.schema_name
    url = "/api/v1/products/" if method == "post" else f"/api/v1/products/{product}/"
    before = counts(schema)
    response = getattr(seller_client(shop_a), method)(url, body, content_type="application/json")
    event(f"{method} {response.status_code}")
    assert_handled(response, before, schema)
    if response.status_code in (200, 201) and "name_fr" in (sent := json.loads(body)):
        assert response.json()["name_fr"] == sent["name_fr"].strip()


# --- CSV imports ---------------------------------------------------------------------------


def _no_surrogates(text: str) -> str:
    """A file name the test client can encode (it sends names as UTF-8)."""
    return text.encode("utf-8", "replace").decode()


csv_text = st.lists(
    st.lists(any_text | odd_number, min_size=1, max_size=5).map(lambda cells: ",".join(cells)), max_size=4
).map(lambda lines: "\n".join(lines))


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


# Rows the importers could take, with odd text and numbers in them.
plausible_catalog = st.lists(
    st.tuples(
        st.integers(1, 5),
        any_text,
        st.integers(1, 9999).map(str) | odd_number,
        st.integers(0, 99).map(str) | odd_number,
    ),
    min_size=1,
    max_size=3,
).map(
    lambda rows: (
        "product_code,sku,name_fr,price,stock\n"
        + "".join(_csv_line([f"fz{n}", f"FZ-{n}", name, price, stock]) for n, name, price, stock in rows)
    )
)
plausible_knowledge = st.lists(
    st.tuples(any_text, any_text, st.sampled_from(["fr", "ar", "en", "arabizi", "xx", ""])), min_size=1, max_size=3
).map(lambda rows: "question,answer,language\n" + "".join(_csv_line(list(row)) for row in rows))
csv_file = st.one_of(
    plausible_catalog.map(_wire),
    plausible_catalog.map(_wire),
    plausible_knowledge.map(_wire),
    plausible_knowledge.map(_wire),
    csv_text.map(lambda body: _wire("product_code,sku,name_fr,price,stock\n" + body)),
    csv_text.map(lambda body: _wire("question,answer,language\n" + body)),
    csv_text.map(lambda body: b"\xff\xfe" + ("question,answer,language\n" + body).encode("utf-16-le", "surrogatepass")),
    st.binary(max_size=80),
)


@pytest.mark.django_db
@settings(FUZZ, max_examples=30)
@given(content=csv_file, name=st.one_of(st.just("c.csv"), st.just("c.csv"), any_text.map(_no_surrogates)))
@example(content=b"question,answer,language\nsize?,a\x00b,fr\n", name="k.csv")
@example(content=b"product_code,sku,name_fr,price\nbol,BOL-1,B\x00l,300\n", name="c.csv")
@example(content=b"\xff\xfeq\x00\x00\xd8", name="c.csv")  # UTF-16 with a lone surrogate
@example(content=b"question,answer,language\nsize?,M,fr\n", name="c\x00.csv")
@example(content=b'question,answer,language\nsize?,"' + b"x" * 200_000 + b'",fr\n', name="c.csv")  # over csv's limit
@example(content=b'product_code,sku,name_fr,price\nbol,BOL-1,"' + b"x" * 200_000 + b'",300\n', name="c.csv")
def test_csv_imports(shop_a, content, name):
    from sales.services.catalog_csv import catalog_import_run

    schema = shop_a.seller.schema_name
    client = seller_client(shop_a)
    before = counts(schema)
    upload = SimpleUploadedFile(name.replace("/", "_") or "c.csv", content, content_type="text/csv")
    response = client.post("/dashboard/knowledge/import/", {"file": upload})
    assert_handled(response, before, schema)

    before = counts(schema)
    upload = SimpleUploadedFile(name.replace("/", "_") or "c.csv", content, content_type="text/csv")
    response = client.post("/dashboard/catalog/import/", {"file": upload})
    assert_handled(response, before, schema)
    with shop_a.schema():
        job = CatalogImport.objects.order_by("-pk").first()
        if job is not None and job.status == CatalogImport.Status.QUEUED:
            finished = catalog_import_run(job.pk)  # what the worker runs
            assert finished is not None and finished.status in ("done", "failed")
            event(f"catalog import {finished.status}, {finished.created_count > 0} created")


# --- Sign-in and sign-up -------------------------------------------------------------------


@pytest.mark.django_db
@settings(FUZZ, max_examples=25)
@given(
    path=st.sampled_from(["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]),
    data=st.data(),
)
@example(path="/accounts/login/", data=None)
def test_sign_in_and_sign_up(path, data):
    names = ["login", "password", "email", "password1", "password2", "shop_name", "address", "remember"]
    # None: the explicit example, a NUL in the e-mail and the password.
    body = "login=a%00%40b.dz&password=x%00" if data is None else data.draw(query_string(names), label="body")
    users, sellers = User.objects.count(), Seller.objects.count()
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    response = client.post(path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert (User.objects.count(), Seller.objects.count()) == (users, sellers)


@pytest.mark.django_db
def test_a_cookie_holding_a_nul_is_dropped_not_a_crash():
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    client.cookies["sessionid"] = "abc\x00defghijklmnop"
    assert client.get("/accounts/login/").status_code == 200


@pytest.mark.django_db
def test_a_nul_in_the_path_is_a_400():
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    assert client.get("/media/s%00/products/x.jpg").status_code == 400  # was a 500 (a schema named with NUL)
    assert client.get("/accounts/open/a%00b/").status_code == 400
