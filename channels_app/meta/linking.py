"""The dashboard's "Messenger & Instagram" page: the shop's linked Pages and Instagram
accounts (connected or to reconnect), their comment settings, unlinking, and the two ways to
link: Facebook Login for Business (Pages and the Instagram accounts connected to them) and
Instagram Login (professional accounts without a Page).

Thin: `login` keeps the OAuth state and the pick list, `accounts` links and unlinks. Only the
shop's owners change anything; agents see the page.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels_app.meta import accounts, login
from channels_app.meta.errors import GraphError
from channels_app.meta.login import Platform
from channels_app.meta.selectors import linked_elsewhere, linked_here, meta_account_of, meta_accounts_of
from channels_app.models import ChannelAccount, MetaAccount
from ma5zani.inputs import strict_int
from sellers.middleware import require_owner
from sellers.models import Seller
from sellers.selectors import seller_primary_domain

MAX_POSTS = 200
# A Facebook post ({page}_{post}) or an Instagram media id.
POST_ID = re.compile(r"[0-9]{1,40}(?:_[0-9]{1,40})?")


class CommentSettingsForm(forms.Form):
    """How comments under the account's posts are answered (in DM, optionally in public)."""

    comment_replies = forms.ChoiceField(
        label=gettext_lazy("Answer comments"), choices=MetaAccount.Comments.choices, widget=forms.RadioSelect
    )
    comment_posts = forms.CharField(
        label=gettext_lazy("Chosen posts (their ids, one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr", "spellcheck": "false"}),
    )
    comment_public_reply = forms.BooleanField(
        label=gettext_lazy("Also reply under the comment, in public"), required=False
    )

    def clean_comment_posts(self) -> list[str]:
        lines = [line.strip() for line in str(self.cleaned_data.get("comment_posts") or "").splitlines()]
        posts = list(dict.fromkeys(line for line in lines if line))
        wrong = [post for post in posts if not POST_ID.fullmatch(post)]
        if wrong:
            raise ValidationError(
                _("These are not post ids: %(posts)s. A post id is made of digits, like 17895695668004550.")
                % {"posts": ", ".join(wrong[:5])}
            )
        if len(posts) > MAX_POSTS:
            raise ValidationError(_("At most %(count)d posts.") % {"count": MAX_POSTS})
        return posts

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("comment_replies") == MetaAccount.Comments.SOME and not cleaned.get("comment_posts"):
            self.add_error("comment_posts", _("Give at least one post, or choose every post."))
        return cleaned


def _seller(request: HttpRequest) -> Seller:
    seller: Seller | None = getattr(request, "seller", None)
    if seller is None:
        raise Http404
    return seller


def _member_id(request: HttpRequest) -> int:
    return int(request.user.pk or 0)


def _settings_form(meta: MetaAccount, data: Any = None) -> CommentSettingsForm:
    initial = {
        "comment_replies": meta.comment_replies,
        "comment_posts": "\n".join(meta.comment_posts or []),
        "comment_public_reply": meta.comment_public_reply,
    }
    return CommentSettingsForm(data, initial=initial, auto_id=f"id_{meta.account_id}_%s")


@require_http_methods(["GET", "POST"])
def meta_channels(request: HttpRequest) -> HttpResponse:
    """The page; POST `action` = settings (of one account) or unlink."""
    seller = _seller(request)
    posted: tuple[int, CommentSettingsForm] | None = None
    if request.method == "POST":
        require_owner(request)
        account = meta_account_of(seller, strict_int(request.POST.get("account", "")) or 0)
        if account is None:
            raise Http404
        action = request.POST.get("action", "")
        if action == "unlink":
            accounts.account_unlink(account)
            messages.success(
                request, _("%(account)s is unlinked: the bot no longer answers there.") % {"account": account}
            )
            return redirect("dashboard:meta")
        if action != "settings":
            raise Http404
        form = _settings_form(account.meta, request.POST)
        if form.is_valid():
            accounts.account_settings_update(
                account.meta,
                comment_replies=form.cleaned_data["comment_replies"],
                comment_posts=form.cleaned_data["comment_posts"],
                comment_public_reply=form.cleaned_data["comment_public_reply"],
            )
            messages.success(request, _("Settings of %(account)s saved.") % {"account": account})
            return redirect("dashboard:meta")
        posted = (account.pk, form)
    rows = [
        {
            "account": account,
            "meta": account.meta,
            "form": posted[1] if posted and posted[0] == account.pk else _settings_form(account.meta),
        }
        for account in meta_accounts_of(seller)
    ]
    return render(
        request,
        "dashboard/meta.html",
        {
            "rows": rows,
            "facebook_ready": login.configured("facebook"),
            "instagram_ready": login.configured("instagram"),
        },
        status=400 if posted else 200,
    )


def _platform(platform: str) -> Platform:
    if platform == "facebook":
        return "facebook"
    if platform == "instagram":
        return "instagram"
    raise Http404


def _port(request: HttpRequest) -> str:
    host = request.get_host()
    return f":{host.rsplit(':', 1)[1]}" if ":" in host and not host.endswith("]") else ""


def _redirect_uri(request: HttpRequest, platform: Platform) -> str:
    """The one address registered with Meta for every shop: on the platform's own host."""
    path = reverse("meta-oauth-return", urlconf="ma5zani.urls_public", args=[platform])
    return f"{request.scheme}://{settings.BASE_DOMAIN}{_port(request)}{path}"


@require_GET
def oauth_return(request: HttpRequest, platform: str) -> HttpResponse:
    """Meta's dialog comes back here (the platform's host); the browser is sent on to the
    callback of the shop the state names, whose session holds the state (checked there)."""
    chosen = _platform(platform)
    seller = Seller.objects.filter(slug=login.shop_of_state(request.GET.get("state", ""))).first()
    if seller is None:
        return HttpResponse(_("This connection link is not valid."), status=400, content_type="text/plain")
    path = reverse("dashboard:meta_callback", urlconf="ma5zani.urls_tenant", args=[chosen])
    query = request.GET.urlencode()
    return HttpResponseRedirect(f"{request.scheme}://{seller_primary_domain(seller)}{_port(request)}{path}?{query}")


@require_POST
def meta_connect(request: HttpRequest, platform: str) -> HttpResponse:
    """To Meta's dialog, with a fresh state for this member."""
    seller = _seller(request)
    require_owner(request)
    chosen = _platform(platform)
    if not login.configured(chosen):
        messages.error(request, _("Messenger and Instagram are not set up on this server yet."))
        return redirect("dashboard:meta")
    state = login.state_issue(
        request.session, platform=chosen, seller_id=seller.pk, member_id=_member_id(request), shop=seller.slug
    )
    return HttpResponseRedirect(login.dialog_url(chosen, state=state, redirect_uri=_redirect_uri(request, chosen)))


@require_GET
def meta_callback(request: HttpRequest, platform: str) -> HttpResponse:
    """Meta's answer: the state checked (and spent), the code turned into candidates, kept
    for the pick list."""
    seller = _seller(request)
    require_owner(request)
    chosen = _platform(platform)
    valid = login.state_take(
        request.session,
        state=request.GET.get("state", ""),
        platform=chosen,
        seller_id=seller.pk,
        member_id=_member_id(request),
    )
    if request.GET.get("error"):
        if request.GET.get("error") == "access_denied":
            messages.info(request, _denied_text(chosen))
        else:
            messages.error(request, _("Meta did not finish the connection, so nothing was linked. Try again."))
        return redirect("dashboard:meta")
    if not valid:
        messages.error(
            request,
            _(
                "This connection link is not valid: it is unknown, expired or already used, so nothing "
                "was linked. Press the Connect button again."
            ),
        )
        return redirect("dashboard:meta")
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, _("Meta answered without an authorization, so nothing was linked. Try again."))
        return redirect("dashboard:meta")
    try:
        candidates = login.candidates_for_code(chosen, code=code, redirect_uri=_redirect_uri(request, chosen))
    except (GraphError, ValidationError) as exc:
        reason = exc.message if isinstance(exc, GraphError) else " ".join(exc.messages)
        messages.error(
            request, _("Meta refused the connection (%(error)s), so nothing was linked.") % {"error": reason}
        )
        return redirect("dashboard:meta")
    if not candidates:
        messages.error(
            request,
            _(
                "Facebook gave access to no Page. Connect again and choose your shop's Pages (and their "
                "Instagram accounts) in the Facebook window."
            ),
        )
        return redirect("dashboard:meta")
    pick_id = login.pick_store(
        request.session, platform=chosen, seller_id=seller.pk, member_id=_member_id(request), candidates=candidates
    )
    return redirect("dashboard:meta_pick", pick_id=pick_id)


def _denied_text(platform: Platform) -> str:
    if platform == "instagram":
        return _("You did not allow ma5zani Bot to reach your Instagram account, so nothing was linked.")
    return _("You did not allow ma5zani Bot to reach your Facebook Pages, so nothing was linked.")


@require_http_methods(["GET", "POST"])
def meta_pick(request: HttpRequest, pick_id: str) -> HttpResponse:
    """The pick list (what the consent can link); POST links the ticked ones, each entirely
    or not at all."""
    seller = _seller(request)
    require_owner(request)
    pick = login.pick_load(request.session, pick_id, seller_id=seller.pk, member_id=_member_id(request))
    if pick is None:
        messages.error(request, _("This list of accounts expired. Press the Connect button again."))
        return redirect("dashboard:meta")
    error = ""
    if request.method == "POST":
        chosen = pick.chosen(request.POST.getlist("pick"))
        if chosen:
            return _link(request, seller, pick, chosen)
        error = _("Tick the Pages and accounts to link.")
    keys = [(candidate.channel, candidate.external_id) for candidate in pick.candidates]
    elsewhere, here = linked_elsewhere(seller, keys), linked_here(seller, keys)
    choices = [
        {
            "candidate": candidate,
            "kind_label": MetaAccount.Kind(candidate.kind).label,
            "elsewhere": (candidate.channel, candidate.external_id) in elsewhere,
            "here": (candidate.channel, candidate.external_id) in here,
        }
        for candidate in pick.candidates
    ]
    return render(
        request,
        "dashboard/meta_pick.html",
        {"pick": pick, "choices": choices, "error": error},
        status=400 if error else 200,
    )


def _link(request: HttpRequest, seller: Seller, pick: login.Pick, chosen: list[accounts.Candidate]) -> HttpResponse:
    linked: list[ChannelAccount] = []
    for candidate in chosen:
        try:
            linked.append(accounts.account_link(seller, candidate, member_id=_member_id(request)))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    login.pick_drop(request.session, pick.id)
    for account in linked:
        messages.success(request, _("%(account)s is connected.") % {"account": account})
    return redirect("dashboard:meta")
