"""Property-based fuzzing of `parse` (Hypothesis) over mutated fixtures.

Mutations replace any value of a fixture by odd JSON (NUL and lone surrogates, "9" * 5000, 1e400,
lists where objects are expected), delete keys, plant keys of Meta's vocabulary where they do not
belong (a `message` in a reaction, a `sender` in a comment), and flip bytes of the raw body.
Whatever arrives, `parse` raises nothing but MalformedDelivery (a ValueError), every event it
returns has an account, a kind, a platform and an aware time, and nothing reaches the parser's
"could not read" safety net: every odd shape is handled on purpose. Derandomized with no example
database, so every run tries the same inputs.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels_app.meta.attachments import TYPES
from channels_app.meta.events import KINDS, Delivery, MalformedDelivery, parse
from channels_app.meta.tests.conftest import fixture_body, fixture_bytes, fixture_names

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    max_examples=600,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NAMES = fixture_names()
BODIES = {name: fixture_body(name) for name in NAMES}


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


META_KEYS = sorted({key for body in BODIES.values() for key in _keys(body)})
SPECIALS = ["\x00", "\ud800", "\udfff", "\U0001f600", "\u202e", "\ufeff", "٣", "", " ", "page", "instagram"]
ODD_NUMBERS = ["1e400", "9" * 5000, "-1", "0", "NaN", "Infinity", "1796374800", "1796374800123", "0x1f", "²"]

any_text = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=16),
    st.sampled_from(SPECIALS + ODD_NUMBERS),
)
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30),
    st.floats(),
    st.sampled_from([0, -1, 1796374800, 1796374800123, 10**11, 2**63]),
    any_text,
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(META_KEYS) | any_text, inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _parent(body: Any, path: tuple[Any, ...]) -> Any:
    node = body
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_bodies(draw: st.DrawFn) -> Any:
    body: Any = copy.deepcopy(BODIES[draw(st.sampled_from(NAMES))])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        path = draw(st.sampled_from(list(_paths(body))))
        operation = draw(st.sampled_from(["replace", "delete", "plant", "wrap"]))
        if not path:
            if operation == "replace":
                body = draw(json_value)
            continue
        parent, last = _parent(body, path), path[-1]
        if operation == "replace":
            parent[last] = draw(json_value)
        elif operation == "delete":
            del parent[last]
        elif operation == "wrap":  # an object where a list was, or a list where an object was
            parent[last] = [parent[last]] if not isinstance(parent[last], list) else {"0": parent[last]}
        elif isinstance(parent[last], dict):  # plant a key of Meta's where it does not belong
            parent[last][draw(st.sampled_from(META_KEYS))] = draw(json_value)
    return body


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _parse_checked(body: Any) -> Delivery | None:
    """The delivery, or None when refused as a whole; fails on any other outcome."""
    handler = _Warnings()
    logger = logging.getLogger("channels_app.meta.events")
    logger.addHandler(handler)
    try:
        delivery = parse(body)
    except MalformedDelivery:
        return None
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [record.getMessage() for record in handler.records]
    assert delivery.skipped >= 0
    assert delivery.platform in {"messenger", "instagram"}
    for event in delivery.events:
        assert isinstance(event.account_id, str) and event.account_id
        assert event.kind in KINDS
        assert event.platform == delivery.platform
        assert isinstance(event.timestamp, dt.datetime) and event.timestamp.utcoffset() == dt.timedelta(0)
        assert isinstance(event.customer_id, str) and isinstance(event.text, str) and isinstance(event.mid, str)
        assert all(isinstance(mid, str) and mid for mid in event.mids)
        assert all(attachment.type in TYPES for attachment in event.attachments)
        assert event.kind not in {"message", "echo"} or event.mid or event.comment is not None
    return delivery


@FUZZ
@given(mutated_bodies())
def test_a_mutated_delivery_parses_or_is_refused(body: Any) -> None:
    _parse_checked(body)
    try:
        raw = json.dumps(body).encode()  # NaN and Infinity stay as such: not JSON, refused
    except ValueError:  # a lone surrogate cannot be encoded
        return
    _parse_checked(raw)


@FUZZ
@given(
    st.sampled_from(NAMES),
    st.lists(st.tuples(st.floats(min_value=0, max_value=1, exclude_max=True), st.integers(0, 255)), max_size=6),
)
def test_a_corrupted_body_parses_or_is_refused(name: str, flips: list[tuple[float, int]]) -> None:
    raw = bytearray(fixture_bytes(name))
    for where, byte in flips:
        raw[int(where * len(raw))] = byte
    _parse_checked(bytes(raw))


def test_the_fixtures_themselves_parse_cleanly() -> None:
    for name in NAMES:
        assert _parse_checked(fixture_bytes(name)) is not None
