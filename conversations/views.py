"""The conversations pages of the dashboard: list, thread, reply, take over and hand back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversations.models import Conversation
from conversations.selectors import conversation_list, message_payload, thread_messages
from conversations.services import (
    conversation_hand_back,
    conversation_mark_example,
    conversation_mark_read,
    conversation_take_over,
    message_send_by_seller,
)
from ma5zani.inputs import strict_int


def conversations_page(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("mode", "")
    page = Paginator(conversation_list(mode=mode), 30).get_page(request.GET.get("page"))
    template = "conversations/_list.html" if request.GET.get("partial") else "conversations/list.html"
    return render(request, template, {"page": page, "mode": mode})


def conversation_page(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation.objects.select_related("customer", "identity"), pk=pk)
    if conversation.unread_count:
        conversation_mark_read(conversation=conversation)
    return render(
        request,
        "conversations/detail.html",
        {"conversation": conversation, "thread": thread_messages(conversation)},
    )


def conversation_messages(request: HttpRequest, pk: int) -> JsonResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    after = strict_int(request.GET.get("after", "0"))
    if after is None:
        return JsonResponse({"error": _("after must be a message id.")}, status=400)
    items = thread_messages(conversation, after=after)
    if conversation.unread_count:
        conversation_mark_read(conversation=conversation)
    return JsonResponse({"mode": conversation.mode, "messages": [message_payload(message) for message in items]})


@require_POST
def conversation_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation, pk=pk)
    try:
        message_send_by_seller(
            conversation=conversation, member_id=int(request.user.pk or 0), text=request.POST.get("text", "")
        )
    except ValidationError as exc:
        if request.headers.get("Accept") == "application/json":
            return JsonResponse({"error": " ".join(exc.messages)}, status=400)
        messages.error(request, " ".join(exc.messages))
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": True})
    return redirect("conversations:detail", pk=pk)


@require_POST
def conversation_take_over_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation_take_over(conversation=get_object_or_404(Conversation, pk=pk), member_id=int(request.user.pk or 0))
    messages.success(request, _("You answer this conversation; the bot stays quiet."))
    return redirect("conversations:detail", pk=pk)


@require_POST
def conversation_example_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation_mark_example(conversation=get_object_or_404(Conversation, pk=pk))
    messages.success(request, _("Thanks: the bot will learn from this conversation once you review it."))
    return redirect("conversations:detail", pk=pk)


@require_POST
def conversation_hand_back_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation_hand_back(conversation=get_object_or_404(Conversation, pk=pk))
    messages.success(request, _("The bot answers this conversation again."))
    return redirect("conversations:detail", pk=pk)
