"""The dashboard's WhatsApp page: link a number (QR code or pairing code), see the session's
state live, disconnect or log out, and the channel's settings. Thin: sessions.py does the work."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from channels_app.whatsapp import sessions
from sales.selectors import bot_settings
from sellers.middleware import require_owner
from sellers.models import Seller


def whatsapp_settings(request: HttpRequest) -> HttpResponse:
    seller: Seller | None = getattr(request, "seller", None)
    if seller is None:
        raise Http404
    session = sessions.session_ensure(seller)
    errors: list[str] = []
    if request.method == "POST":
        require_owner(request)
        action = request.POST.get("action", "")
        try:
            if action == "connect":
                sessions.session_connect(session)
                messages.success(request, _("Connecting WhatsApp…"))
            elif action == "pair_phone":
                sessions.session_pair_by_phone(session, request.POST.get("phone", ""))
                messages.success(request, _("A pairing code is on its way; it shows here in a few seconds."))
            elif action == "disconnect":
                sessions.session_disconnect(session)
                messages.success(request, _("WhatsApp will be disconnected in a few seconds."))
            elif action == "logout":
                sessions.session_logout(session)
                messages.success(request, _("WhatsApp will be unlinked from your phone in a few seconds."))
            elif action == "settings":
                sessions.session_update_settings(session, ai_badge=request.POST.get("ai_badge") == "on")
                messages.success(request, _("WhatsApp settings saved."))
            else:
                raise ValidationError(_("Unknown action."))
        except ValidationError as exc:
            errors = list(exc.messages)
        else:
            return redirect("dashboard:whatsapp")
    if request.headers.get("Accept") == "application/json":
        return JsonResponse(sessions.status_payload(session))
    return render(
        request,
        "dashboard/whatsapp.html",
        {
            "session": session,
            "qr_svg": sessions.qr_svg(session.qr) if session.qr else "",
            "errors": errors,
            "halted": session.state in session.HALTED_STATES,
            "groups_enabled": bot_settings().group_chats_enabled,
        },
    )
