from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from sellers.login_throttle import (
    LoginThrottled,
    login_device_remember,
    login_throttle_attempt,
    login_throttle_succeeded,
)


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

    # Sign-in attempts are throttled by sellers.login_throttle (per address and account, per
    # address, per account from unknown browsers), not by allauth's per-account lock-out.
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            login_throttle_attempt(request, str(credentials.get("email") or ""))
        except LoginThrottled:
            raise self.validation_error("too_many_login_attempts") from None

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        user = super().authenticate(request, **credentials)
        if user is not None:
            login_throttle_succeeded(request, str(credentials.get("email") or ""))
        return user

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse:
        return login_device_remember(request, super().post_login(request, user, **kwargs))  # type: ignore[return-value]
