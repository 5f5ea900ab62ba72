"""Pages of the public site (landing, sign-in hand-off) and of the seller's dashboard shell."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from knox.models import AuthToken

from channels_app.selectors import channel_accounts_for_seller
from sales.selectors import bot_settings, catalog_status
from sellers.forms import InvitationPasswordForm, MemberAddForm
from sellers.handoff import handoff_consume, handoff_url
from sellers.invitations import (
    account_exists,
    invitation_accept,
    invitation_accept_with_password,
    invitation_create,
    invitation_decline,
    invitation_for_token,
    invitation_is_for,
    invitation_revoke,
    invitation_send,
)
from sellers.middleware import require_owner
from sellers.models import Invitation, Membership, Seller, User
from sellers.selectors import memberships_for_user
from sellers.services import membership_remove


def _seller(request: HttpRequest) -> Seller:
    seller = getattr(request, "seller", None)
    if seller is None:
        raise PermissionDenied
    return seller


# --- Public site --------------------------------------------------------------------------


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "public/landing.html")


@login_required
def seller_continue(request: HttpRequest) -> HttpResponse:
    """Where a user lands after signing in on the public site: their shop, or a choice."""
    assert isinstance(request.user, User)
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1:
        return HttpResponseRedirect(handoff_url(request, user=request.user, seller=memberships[0].seller))
    if not memberships and request.user.is_staff:
        return redirect("admin:index")
    return render(request, "public/choose_seller.html", {"memberships": memberships})


@login_required
@require_POST
def seller_open(request: HttpRequest, slug: str) -> HttpResponse:
    assert isinstance(request.user, User)
    membership = get_object_or_404(memberships_for_user(request.user), seller__slug=slug)
    return HttpResponseRedirect(handoff_url(request, user=request.user, seller=membership.seller))


def handoff(request: HttpRequest) -> HttpResponse:
    """Sign in on the seller's domain with a one-time token from the public site."""
    seller = _seller(request)
    user = handoff_consume(request.GET.get("token", ""), seller=seller)
    if user is None:
        messages.error(request, _("This sign-in link has expired. Please sign in again."))
        return redirect("account_login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("dashboard:home")


# --- Dashboard shell ----------------------------------------------------------------------


def dashboard_home(request: HttpRequest) -> HttpResponse:
    seller = _seller(request)
    return render(
        request,
        "dashboard/home.html",
        {
            "status": catalog_status(),
            "channels": channel_accounts_for_seller(seller),
            "key_unreadable": bot_settings().openrouter_key_unreadable,
        },
    )


def team(request: HttpRequest) -> HttpResponse:
    seller = _seller(request)
    form = MemberAddForm(request.POST or None)
    if request.method == "POST":
        require_owner(request)
        if form.is_valid():
            try:
                invitation, token = invitation_create(
                    seller=seller,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user if request.user.is_authenticated else None,
                )
            except ValidationError as exc:
                form.add_error("email", exc)
            else:
                link = request.build_absolute_uri(reverse("seller_invitation", args=[token]))
                invitation_send(invitation=invitation, link=link)
                messages.success(request, _("An invitation was sent to %(email)s.") % {"email": invitation.email})
                return redirect("dashboard:team")
    members = Membership.objects.filter(seller=seller).select_related("user").order_by("role", "user__email")
    invitations = [
        invitation
        for invitation in Invitation.objects.filter(
            seller=seller, accepted_at=None, declined_at=None, revoked_at=None
        ).order_by("-created_at")
        if invitation.is_open
    ]
    return render(request, "dashboard/team.html", {"form": form, "members": members, "invitations": invitations})


@require_POST
def team_invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    seller = _seller(request)
    require_owner(request)
    invitation_revoke(invitation=get_object_or_404(Invitation, pk=pk, seller=seller))
    messages.success(request, _("The invitation was withdrawn."))
    return redirect("dashboard:team")


def invitation_page(request: HttpRequest, token: str) -> HttpResponse:
    """The invited person's page (on the shop's domain, open to anyone with the link)."""
    seller = _seller(request)
    invitation = invitation_for_token(seller=seller, token=token)
    if invitation is None:
        return render(request, "dashboard/invitation.html", {"invalid": True}, status=404)
    has_account = account_exists(invitation.email)
    form = InvitationPasswordForm(request.POST or None)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "decline":
            invitation_decline(invitation=invitation)
            messages.info(request, _("You declined the invitation."))
            return redirect("account_login")
        if action == "accept":
            try:
                if request.user.is_authenticated:
                    invitation_accept(invitation=invitation, user=request.user)
                elif not has_account and form.is_valid():
                    user, _membership = invitation_accept_with_password(
                        invitation=invitation, password=form.cleaned_data["password1"]
                    )
                    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                else:
                    raise ValidationError(_("Choose a password to accept."), code="password_needed")
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("Welcome to %(shop)s.") % {"shop": seller.name})
                return redirect("dashboard:home")
    signed_in_as = request.user.email if request.user.is_authenticated else ""
    return render(
        request,
        "dashboard/invitation.html",
        {
            "invitation": invitation,
            "has_account": has_account,
            "signed_in_as": signed_in_as,
            "is_invited_account": request.user.is_authenticated and invitation_is_for(invitation, request.user),
            "form": form,
            "error": error,
            "login_url": f"{reverse('account_login')}?next={request.path}",
        },
    )


@require_POST
def team_remove(request: HttpRequest, pk: int) -> HttpResponse:
    seller = _seller(request)
    require_owner(request)
    membership = get_object_or_404(Membership, pk=pk, seller=seller)
    try:
        membership_remove(membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(email)s was removed.") % {"email": membership.user.email})
    return redirect("dashboard:team")


def api_access(request: HttpRequest) -> HttpResponse:
    """The signed-in user's API tokens. A new token is shown once; only its digest is kept."""
    _seller(request)
    user = request.user
    new_token = None
    if request.method == "POST":
        if request.POST.get("revoke"):
            AuthToken.objects.filter(user=user, token_key=request.POST["revoke"]).delete()
            messages.success(request, _("The token was revoked."))
            return redirect("dashboard:api_access")
        _instance, new_token = AuthToken.objects.create(user=user, expiry=None)
    tokens = AuthToken.objects.filter(user=user).order_by("-created")
    return render(
        request,
        "dashboard/api_access.html",
        {"new_token": new_token, "tokens": tokens, "docs_url": reverse("api-docs")},
    )
