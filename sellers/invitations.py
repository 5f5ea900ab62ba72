"""Joining a shop is an invitation the invited person accepts.

An owner invites an e-mail address with a role (`invitation_create`); the address receives a
link to the shop's own domain with a one-time token (only its digest is stored), valid for
INVITATION_DAYS. Nobody becomes a member until they accept (`invitation_accept`): signed in as
the invited address, or — for an address with no account yet — by choosing a password through
the link (the link proves the address). The invited person may decline; the owner may revoke.
An account that already exists is never added to a shop without its owner's consent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from allauth.account.models import EmailAddress
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sellers.models import Invitation, Membership, Seller, User

logger = logging.getLogger(__name__)

INVITATION_DAYS = 7


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normal_email(email: str) -> str:
    return User.objects.normalize_email(email).strip().lower()


@transaction.atomic
def invitation_create(*, seller: Seller, email: str, role: str, invited_by: User | None) -> tuple[Invitation, str]:
    """A new open invitation and its token (to put in the link; it is not stored)."""
    if role not in Membership.Role.values:
        raise ValidationError(_("Unknown role."), code="invalid_role")
    email = _normal_email(email)
    if Membership.objects.filter(seller=seller, user__email__iexact=email).exists():
        raise ValidationError(_("This person is already a member."), code="already_member")
    now = timezone.now()
    # An earlier invitation that expired unanswered makes room for the new one.
    Invitation.objects.filter(
        seller=seller, email=email, accepted_at=None, declined_at=None, revoked_at=None, expires_at__lte=now
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                seller=seller,
                email=email,
                role=role,
                token_digest=_digest(token),
                invited_by=invited_by,
                expires_at=now + dt.timedelta(days=INVITATION_DAYS),
            )
    except IntegrityError:
        raise ValidationError(_("This person is already invited."), code="already_invited") from None
    return invitation, token


def invitation_send(*, invitation: Invitation, link: str) -> None:
    """E-mail the link once the invitation is committed. A failure to send withdraws it (and is
    logged), so that the owner can simply invite the address again."""
    transaction.on_commit(lambda: _send(invitation, link))


def _send(invitation: Invitation, link: str) -> None:
    try:
        _mail(invitation, link)
    except Exception:
        logger.exception("The invitation to %s could not be sent; withdrawn", invitation.email)
        invitation_revoke(invitation=invitation)


def _mail(invitation: Invitation, link: str) -> None:
    send_mail(
        _("Join %(shop)s on ma5zani") % {"shop": invitation.seller.name},
        _(
            "You are invited to join %(shop)s as %(role)s.\n\n"
            "Accept or decline here (the link works for %(days)d days):\n%(link)s\n\n"
            "If you did not expect this, ignore this e-mail: nothing happens until you accept."
        )
        % {
            "shop": invitation.seller.name,
            "role": invitation.get_role_display(),
            "days": INVITATION_DAYS,
            "link": link,
        },
        None,
        [invitation.email],
    )


def invitation_for_token(*, seller: Seller, token: str) -> Invitation | None:
    """The open invitation of `seller` behind a token, or None (unknown, used, expired, revoked)."""
    if not token or len(token) > 200:
        return None
    invitation = Invitation.objects.filter(seller=seller, token_digest=_digest(token)).select_related("seller").first()
    return invitation if invitation is not None and invitation.is_open else None


def account_exists(email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def invitation_is_for(invitation: Invitation, user: User) -> bool:
    return _normal_email(user.email) == invitation.email


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invited person, signed in as the invited address, joins the shop."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_open:
        raise ValidationError(_("This invitation is no longer valid."), code="invitation_closed")
    if not invitation_is_for(locked, user):
        raise ValidationError(_("This invitation is for another e-mail address."), code="wrong_account")
    membership, _created = Membership.objects.get_or_create(
        user=user, seller=locked.seller, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def invitation_accept_with_password(*, invitation: Invitation, password: str) -> tuple[User, Membership]:
    """An address with no account: the link proves the address, the password makes the account."""
    # The invitation locked first: a second submission waits, then finds it used.
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not locked.is_open:
        raise ValidationError(_("This invitation is no longer valid."), code="invitation_closed")
    if account_exists(invitation.email):
        raise ValidationError(_("An account with this address exists: sign in to accept."), code="account_exists")
    user = User(email=invitation.email)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=invitation.email, primary=True, verified=True)
    return user, invitation_accept(invitation=invitation, user=user)


@transaction.atomic
def invitation_decline(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at=None, revoked_at=None).update(declined_at=timezone.now())


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at=None, declined_at=None).update(revoked_at=timezone.now())
