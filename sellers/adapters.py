from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


def _on_seller_domain(request: HttpRequest) -> bool:
    return getattr(request, "seller", None) is not None


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up happens on the public site; after login a user lands on their dashboard."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return not _on_seller_domain(request)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if _on_seller_domain(request):
            return reverse("dashboard:home")
        return reverse("seller_continue")

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        return self.get_login_redirect_url(request)
