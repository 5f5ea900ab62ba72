"""The seller's consent from the dashboard, between the "Connect" button and the pick list:
the OAuth `state` that ties Meta's callback to the member who pressed the button, the code
turned into tokens and candidates, and the candidates kept while the seller picks.

Both live in the member's session (database-backed: never in a cookie, and a Redis outage
neither loses them nor lets a forged state through). A state is random, single-use, bound to
the platform, the shop and the member, and expires after STATE_TTL. The candidates carry Page
and Instagram tokens: they are stored encrypted (`ma5zani.crypto`) under the pick's id for
PICK_TTL, and the page shows only their names and keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase

from channels_app.meta.accounts import (
    FACEBOOK_SCOPES,
    INSTAGRAM_SCOPES,
    Candidate,
    facebook_candidates,
    instagram_candidate,
)
from channels_app.meta.client import (
    GraphClient,
    MetaApp,
    Token,
    facebook_dialog_url,
    facebook_exchange_code,
    facebook_long_lived,
    instagram_dialog_url,
    instagram_exchange_code,
    instagram_long_lived,
)
from channels_app.meta.errors import GraphError
from ma5zani.crypto import SecretUnreadable, decrypt, encrypt

logger = logging.getLogger(__name__)

Platform = Literal["facebook", "instagram"]
PLATFORMS: tuple[Platform, ...] = ("facebook", "instagram")

STATE_TTL = 600.0  # seconds: a dialog left open longer is started again
PICK_TTL = 600.0
MAX_OPEN = 5  # states (and picks) kept per session: the oldest go first
_STATES = "meta_oauth_states"
_PICKS = "meta_link_picks"


def _now() -> float:
    return time.time()


# --- the state -------------------------------------------------------------------------------


def state_issue(session: SessionBase, *, platform: Platform, seller_id: int, member_id: int, shop: str) -> str:
    """A new state for one dialog of `platform`, opened by this member for this shop. It starts
    with the shop's slug (`<slug>.<random>`): Meta sends the browser back to the platform's one
    registered address, which passes it on to the shop's own (`shop_of_state`)."""
    state = f"{shop}.{secrets.token_urlsafe(32)}"
    now = _now()
    states = _live(session.get(_STATES), now)
    states[state] = {"platform": platform, "seller": seller_id, "member": member_id, "expires": now + STATE_TTL}
    session[_STATES] = _newest(states)
    return state


def shop_of_state(state: str) -> str:
    """The shop slug a state was issued for ("" for a state of no shop)."""
    slug, dot, rest = state.partition(".")
    return slug if dot and rest and slug.replace("-", "").isalnum() and len(slug) <= 63 else ""


def state_take(session: SessionBase, *, state: str, platform: Platform, seller_id: int, member_id: int) -> bool:
    """Whether `state` is one this session issued for this platform, shop and member, and has
    not expired. It is spent either way (and saved at once), so it never serves twice."""
    now = _now()
    states = _live(session.get(_STATES), now)
    issued = states.pop(state, None) if state else None
    session[_STATES] = states
    session.save()
    return (
        isinstance(issued, dict)
        and issued.get("platform") == platform
        and issued.get("seller") == seller_id
        and issued.get("member") == member_id
        and float(issued.get("expires") or 0) > now
    )


# --- the pick list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """What the seller may link after one consent: the candidates, until `expires`."""

    id: str
    platform: Platform
    candidates: tuple[Candidate, ...]
    expires: float

    def chosen(self, keys: list[str]) -> list[Candidate]:
        wanted = set(keys)
        return [candidate for candidate in self.candidates if candidate.key in wanted]


def pick_store(
    session: SessionBase, *, platform: Platform, seller_id: int, member_id: int, candidates: list[Candidate]
) -> str:
    """Keep the candidates (tokens encrypted) for PICK_TTL; returns the pick's id."""
    pick_id = secrets.token_urlsafe(16)
    now = _now()
    picks = _live(session.get(_PICKS), now)
    picks[pick_id] = {
        "platform": platform,
        "seller": seller_id,
        "member": member_id,
        "expires": now + PICK_TTL,
        "candidates": encrypt(json.dumps([_candidate_data(c) for c in candidates])),
    }
    session[_PICKS] = _newest(picks)
    return pick_id


def pick_load(session: SessionBase, pick_id: str, *, seller_id: int, member_id: int) -> Pick | None:
    """The pick, if this session holds it for this shop and member and it has not expired."""
    kept = _live(session.get(_PICKS), _now()).get(pick_id)
    if not isinstance(kept, dict) or kept.get("seller") != seller_id or kept.get("member") != member_id:
        return None
    try:
        rows = json.loads(decrypt(str(kept.get("candidates") or "")))
    except (SecretUnreadable, ValueError):
        logger.warning("A Meta pick list could not be read back; the seller connects again")
        return None
    platform: Platform = "instagram" if kept.get("platform") == "instagram" else "facebook"
    return Pick(
        id=pick_id,
        platform=platform,
        candidates=tuple(_candidate(row) for row in rows if isinstance(row, dict)),
        expires=float(kept["expires"]),
    )


def pick_drop(session: SessionBase, pick_id: str) -> None:
    picks = _live(session.get(_PICKS), _now())
    picks.pop(pick_id, None)
    session[_PICKS] = picks


def _candidate_data(candidate: Candidate) -> dict[str, Any]:
    data = dataclasses.asdict(candidate)
    data["expires_at"] = candidate.expires_at.isoformat() if candidate.expires_at else None
    data["scopes"] = list(candidate.scopes)
    return data


def _candidate(data: dict[str, Any]) -> Candidate:
    expires_at = data.get("expires_at")
    return Candidate(
        kind=str(data["kind"]),
        external_id=str(data["external_id"]),
        name=str(data.get("name") or ""),
        token=str(data["token"]),
        username=str(data.get("username") or ""),
        page_id=str(data.get("page_id") or ""),
        expires_at=dt.datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else None,
        scopes=tuple(str(scope) for scope in data.get("scopes") or ()),
        picture=str(data.get("picture") or ""),
    )


def _live(kept: object, now: float) -> dict[str, Any]:
    if not isinstance(kept, dict):
        return {}
    return {key: value for key, value in kept.items() if isinstance(value, dict) and value.get("expires", 0) > now}


def _newest(kept: dict[str, Any]) -> dict[str, Any]:
    ordered = sorted(kept.items(), key=lambda item: float(item[1]["expires"]))
    return dict(ordered[-MAX_OPEN:])


# --- the dialogs and what their codes give ---------------------------------------------------


def configured(platform: Platform) -> bool:
    """Whether this server has the Meta app the platform's login needs."""
    if platform == "instagram":
        return bool(settings.META_INSTAGRAM_APP_ID or settings.META_APP_ID)
    return bool(settings.META_APP_ID)


def dialog_url(platform: Platform, *, state: str, redirect_uri: str) -> str:
    """Where the seller's browser goes to consent. Facebook Login for Business names its
    permissions with a configuration (META_FACEBOOK_CONFIG_ID) when there is one."""
    if platform == "instagram":
        return instagram_dialog_url(state, redirect_uri, INSTAGRAM_SCOPES)
    config_id = settings.META_FACEBOOK_CONFIG_ID
    return facebook_dialog_url(state, redirect_uri, () if config_id else FACEBOOK_SCOPES, config_id=config_id)


def candidates_for_code(platform: Platform, *, code: str, redirect_uri: str) -> list[Candidate]:
    """The dialog's code turned into long-lived tokens, and what they can link. Raises
    GraphError when Meta refuses a step."""
    if platform == "instagram":
        short = instagram_exchange_code(code, redirect_uri)
        long_lived = instagram_long_lived(short.access_token)
        # The long-lived answer names neither the account nor the permissions: the code's did.
        token = dataclasses.replace(long_lived, user_id=short.user_id, scopes=short.scopes)
        return [instagram_candidate(token)]
    short = facebook_exchange_code(code, redirect_uri)
    user_token = facebook_long_lived(short.access_token)
    return facebook_candidates(dataclasses.replace(user_token, scopes=_granted(user_token)))


def _granted(token: Token) -> tuple[str, ...]:
    """The permissions the person granted (debug_token); () when Meta does not say."""
    app = MetaApp.facebook()
    try:
        data = GraphClient.facebook(token.access_token).debug_token(token.access_token, app.app_token)
    except GraphError as exc:
        logger.info("debug_token after a Facebook login failed: %s", exc)
        return ()
    scopes = data.get("scopes")
    return tuple(str(scope) for scope in scopes) if isinstance(scopes, list) else ()
