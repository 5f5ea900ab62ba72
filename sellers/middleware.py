"""Nobody reaches a seller's pages without a membership (platform staff aside)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from sellers.models import Membership
from sellers.selectors import membership_for, user_can_access_seller

# Paths on a seller's domain that are not behind the membership gate: sign-in pages, the
# language switch, static files, and the API with its schema (DRF authenticates tokens itself
# and applies the same rule through sellers.permissions.IsSellerMember). The API's
# documentation page is for people: it stays behind the gate, which sends them to sign in.
# Files under /media/ are checked by the view that serves them (product images are public).
OPEN_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/media/", "/api/v1/", "/api/schema/", "/favicon.ico")


def request_membership(request: HttpRequest) -> Membership | None:
    """The signed-in user's membership in the request's seller, looked up once."""
    if not hasattr(request, "_membership_cache"):
        request._membership_cache = membership_for(  # type: ignore[attr-defined]
            request.user, getattr(request, "seller", None)
        )
    membership: Membership | None = request._membership_cache  # type: ignore[attr-defined]
    return membership


def request_is_owner(request: HttpRequest) -> bool:
    """Owners of the request's seller (and platform staff) may change its settings and team."""
    if getattr(request.user, "is_staff", False):
        return True
    membership = request_membership(request)
    return membership is not None and membership.is_owner


def require_owner(request: HttpRequest) -> None:
    if not request_is_owner(request):
        raise PermissionDenied(_("Only the shop's owners can do this."))


class SellerAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        is_seller = tenant is not None and tenant.schema_name != get_public_schema_name()
        request.seller = tenant if is_seller else None  # type: ignore[attr-defined]
        if tenant is not None and is_seller:
            if not tenant.is_active or tenant.is_template:
                raise Http404("No such shop.")
            if not request.path.startswith(OPEN_PREFIXES):
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if not user_can_access_seller(request.user, tenant):
                    raise PermissionDenied("You are not a member of this shop.")
        return self.get_response(request)
