from __future__ import annotations

from allauth.account.forms import SignupForm
from django import forms
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sellers.models import Membership, Seller, User
from sellers.services import seller_sign_up, seller_validate_slug


class SellerSignupForm(SignupForm):
    shop_name = forms.CharField(label=_("Shop name"), max_length=120)
    slug = forms.CharField(
        label=_("Shop address"),
        max_length=30,
        help_text=_("Your dashboard will be at <address>.%(domain)s") % {"domain": settings.BASE_DOMAIN},
    )

    field_order = ["shop_name", "slug", "email", "password1", "password2"]

    def clean_slug(self) -> str:
        return seller_validate_slug(self.cleaned_data["slug"])

    def save(self, request: HttpRequest) -> User:
        user, seller = seller_sign_up(
            email=self.cleaned_data["email"],
            password=self.cleaned_data["password1"],
            shop_name=self.cleaned_data["shop_name"],
            slug=self.cleaned_data["slug"],
        )
        self.seller: Seller = seller
        return user


class InvitationPasswordForm(forms.Form):
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("password1") != cleaned.get("password2"):
            raise forms.ValidationError(_("The two passwords differ."))
        return cleaned


class MemberAddForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices, initial="agent")
