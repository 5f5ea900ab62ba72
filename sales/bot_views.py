"""Dashboard pages around the bot: "try your bot" (the real pipeline in a sandbox conversation)
and the AI usage and cost per month."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels_app.widget.services import widget_account_ensure
from conversations.models import Conversation
from conversations.selectors import thread_messages
from conversations.services import sandbox_conversation, sandbox_reset, sandbox_send
from sales.engine.openrouter import month_spend, openrouter_key
from sales.models import Order
from sales.selectors import bot_settings, engine_usage


def _sandbox(request: HttpRequest) -> Conversation:
    account = widget_account_ensure(request.tenant)  # type: ignore[attr-defined]
    return sandbox_conversation(channel_account_id=account.pk, member_id=int(request.user.pk or 0))


def try_bot(request: HttpRequest) -> HttpResponse:
    conversation = _sandbox(request)
    if request.method == "POST":
        try:
            sandbox_send(conversation=conversation, text=request.POST.get("text", ""))
        except ValidationError as exc:
            if request.headers.get("Accept") == "application/json":
                return JsonResponse({"error": " ".join(exc.messages)}, status=400)
            messages.error(request, " ".join(exc.messages))
        if request.headers.get("Accept") == "application/json":
            return JsonResponse({"ok": True})
        return redirect("settings:try_bot")
    row = bot_settings()
    return render(
        request,
        "sales/try_bot.html",
        {
            "conversation": conversation,
            "thread": thread_messages(conversation),
            "orders": Order.objects.filter(conversation=conversation, is_test=True).prefetch_related("items"),
            "engine": "openrouter" if openrouter_key() else "builtin",
            "settings_row": row,
        },
    )


@require_POST
def try_bot_reset(request: HttpRequest) -> HttpResponse:
    sandbox_reset(conversation=_sandbox(request))
    messages.success(request, _("The test conversation starts over."))
    return redirect("settings:try_bot")


def usage(request: HttpRequest) -> HttpResponse:
    months = engine_usage(months=6)
    top_cost = max([m["cost"] for m in months] + [Decimal("0.01")])
    top_replies = max([m["ai"] + m["builtin"] for m in months] + [1])
    for month in months:
        month["cost_height"] = int(100 * month["cost"] / top_cost)
        month["ai_height"] = int(100 * month["ai"] / top_replies)
        month["builtin_height"] = int(100 * month["builtin"] / top_replies)
    row = bot_settings()
    spent = month_spend()
    budget = row.monthly_budget_usd
    return render(
        request,
        "sales/usage.html",
        {
            "months": months,
            "spent": spent,
            "budget": budget,
            "budget_percent": min(100, int(100 * spent / budget)) if budget else 100,
            "has_key": bool(openrouter_key()),
            "key_unreadable": row.openrouter_key_unreadable,
        },
    )
