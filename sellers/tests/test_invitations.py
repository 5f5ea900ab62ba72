"""Joining a shop is an invitation the invited person accepts: an owner can no longer add an
existing account to their shop by typing its address."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from sellers.models import Invitation, Membership, User

pytestmark = pytest.mark.django_db

PASSWORD = "pw-For-tests-1"


_capture: Any = None


@pytest.fixture(autouse=True)
def _after_commit(django_capture_on_commit_callbacks):
    """The e-mail leaves once the invitation is committed: run what the commit would run."""
    global _capture
    _capture = django_capture_on_commit_callbacks


def invite(shop, email: str, role: str = "agent") -> str:
    """Invite through the team page; the path of the e-mailed link."""
    before = len(mail.outbox)
    with _capture(execute=True):
        assert shop.client().post("/dashboard/team/", {"email": email, "role": role}).status_code == 302
    assert len(mail.outbox) == before + 1
    found = re.search(r"https?://\S+/accounts/invitation/\S+/", str(mail.outbox[-1].body))
    assert found is not None
    link = found.group(0)
    return "/" + link.split("/", 3)[3]


def browser(shop) -> Client:
    return Client(HTTP_HOST=shop.host, HTTP_ACCEPT_LANGUAGE="en")


def test_an_existing_account_is_not_a_member_until_it_accepts(shop_a, shop_b):
    other = shop_b.owner  # someone with an account elsewhere
    path = invite(shop_a, other.email.upper(), role="owner")
    assert not Membership.objects.filter(user=other, seller=shop_a.seller).exists()
    client = browser(shop_a)
    client.force_login(other)
    assert client.get("/dashboard/").status_code == 403  # no access before accepting
    page = client.get(path)
    assert page.status_code == 200 and b'value="accept"' in page.content
    response = client.post(path, {"action": "accept"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert Membership.objects.get(user=other, seller=shop_a.seller).role == "owner"
    assert client.get("/dashboard/").status_code == 200
    # The link works once.
    assert client.get(path).status_code == 404


def test_a_new_address_chooses_a_password_and_joins(shop_a):
    path = invite(shop_a, "new.agent@alpha.test")
    client = browser(shop_a)
    weak = client.post(path, {"action": "accept", "password1": "123", "password2": "123"})
    assert weak.status_code == 200 and not User.objects.filter(email="new.agent@alpha.test").exists()
    response = client.post(path, {"action": "accept", "password1": "Long-Pass-9x!", "password2": "Long-Pass-9x!"})
    assert response.status_code == 302
    user = User.objects.get(email="new.agent@alpha.test")
    assert user.check_password("Long-Pass-9x!")
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(user=user).verified  # the link proved the address
    assert Membership.objects.get(user=user, seller=shop_a.seller).role == "agent"
    assert client.get("/dashboard/").status_code == 200


def test_the_wrong_account_cannot_accept_and_nobody_can_use_another_shops_link(shop_a, shop_b, make_shop):
    charlie = make_shop("charlie", owner_email="owner@charlie.test")
    path = invite(shop_a, shop_b.owner.email)
    intruder = browser(shop_a)
    intruder.force_login(charlie.owner)
    assert b'value="accept"' not in intruder.get(path).content
    intruder.post(path, {"action": "accept"})
    assert not Membership.objects.filter(seller=shop_a.seller, user__in=[charlie.owner, shop_b.owner]).exists()
    # The token belongs to shop A: on shop B's domain it is nothing.
    on_b = browser(shop_b)
    on_b.force_login(shop_b.owner)
    assert on_b.get(path).status_code == 404
    # An account that exists must sign in; the password form cannot take it over.
    anonymous = browser(shop_a)
    anonymous.post(path, {"action": "accept", "password1": "Long-Pass-9x!", "password2": "Long-Pass-9x!"})
    assert not shop_b.owner.__class__.objects.get(pk=shop_b.owner.pk).check_password("Long-Pass-9x!")
    assert not Membership.objects.filter(seller=shop_a.seller, user=shop_b.owner).exists()


def test_declined_withdrawn_and_expired_invitations_give_nothing(shop_a):
    declined = invite(shop_a, "a@alpha.test")
    browser(shop_a).post(declined, {"action": "decline"})
    assert browser(shop_a).get(declined).status_code == 404
    withdrawn = invite(shop_a, "b@alpha.test")
    invitation = Invitation.objects.get(email="b@alpha.test")
    team = shop_a.client().get("/dashboard/team/")
    assert b"b@alpha.test" in team.content
    shop_a.client().post(f"/dashboard/team/invitations/{invitation.pk}/revoke/")
    assert browser(shop_a).get(withdrawn).status_code == 404
    expired = invite(shop_a, "c@alpha.test")
    Invitation.objects.filter(email="c@alpha.test").update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    client = browser(shop_a)
    response = client.post(expired, {"action": "accept", "password1": "Long-Pass-9x!", "password2": "Long-Pass-9x!"})
    assert response.status_code == 404
    assert not User.objects.filter(email__in=["a@alpha.test", "b@alpha.test", "c@alpha.test"]).exists()
    # An expired invitation makes room for a new one.
    invite(shop_a, "c@alpha.test")


def test_agents_cannot_invite_or_withdraw(shop_a, add_member):
    agent = add_member(shop_a, "agent@alpha.test")
    invite(shop_a, "d@alpha.test")
    invitation = Invitation.objects.get(email="d@alpha.test")
    client = shop_a.client(agent)
    assert client.post("/dashboard/team/", {"email": "e@alpha.test", "role": "owner"}).status_code == 403
    assert client.post(f"/dashboard/team/invitations/{invitation.pk}/revoke/").status_code == 403
    invitation.refresh_from_db()
    assert invitation.is_open and not Invitation.objects.filter(email="e@alpha.test").exists()


def test_an_invitation_that_could_not_be_sent_is_withdrawn_and_can_be_sent_again(shop_a, monkeypatch):
    def broken(invitation, link):
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr("sellers.invitations._mail", broken)
    with _capture(execute=True):
        assert shop_a.client().post("/dashboard/team/", {"email": "f@alpha.test", "role": "agent"}).status_code == 302
    assert not Invitation.objects.get(email="f@alpha.test").is_open
    monkeypatch.undo()
    invite(shop_a, "f@alpha.test")  # not "already invited"
