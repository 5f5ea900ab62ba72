"""The customers pages: a list with search, one profile with every conversation and order on
every channel, merging two customers, and the merges suggested to the seller (confirm or
dismiss). Any member of the shop may merge, as on the profile's merge form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversations.customers import customers_merge, merge_suggestion_accept, merge_suggestion_dismiss
from conversations.models import Customer, MergeSuggestion
from conversations.selectors import customer_list, merge_suggestions_pending
from ma5zani.inputs import strict_int


def customers_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    suggested = request.GET.get("suggested") == "1"
    page = Paginator(customer_list(query=query, suggested=suggested), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "conversations/customer_list.html",
        {
            "page": page,
            "query": query,
            "suggested": suggested,
            "suggestions_count": merge_suggestions_pending().count(),
        },
    )


def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.prefetch_related("identities"), pk=pk)
    return render(
        request,
        "conversations/customer_detail.html",
        {
            "customer": customer,
            "conversations": customer.conversations.filter(is_sandbox=False).order_by("-last_message_at"),
            "orders": customer.orders.filter(is_test=False).prefetch_related("items").order_by("-created_at"),
            # Each suggestion with the other customer of the pair.
            "suggestions": [
                (suggestion, suggestion.other if suggestion.customer_id == customer.pk else suggestion.customer)
                for suggestion in merge_suggestions_pending(customer_id=customer.pk)
            ],
        },
    )


@require_POST
def customer_merge_view(request: HttpRequest, pk: int) -> HttpResponse:
    keep = get_object_or_404(Customer, pk=pk)
    other = strict_int(request.POST.get("other", ""))
    merge = Customer.objects.filter(pk=other).first() if other is not None else None
    if merge is None:
        messages.error(request, _("Choose the customer to merge into this one."))
        return redirect("customers:detail", pk=pk)
    try:
        customers_merge(keep=keep, merge=merge, member_id=request.user.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The two customers are now one."))
    return redirect("customers:detail", pk=pk)


@require_POST
def merge_suggestion_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm (merge the two customers) or dismiss (keep them apart) a suggested merge."""
    if action not in ("accept", "dismiss"):
        raise Http404
    suggestion = get_object_or_404(MergeSuggestion, pk=pk)
    # Back to the profile it was decided on (one of the pair's).
    given = request.POST.get("next", "")
    back = suggestion.other_id if suggestion.other_id and str(suggestion.other_id) == given else suggestion.customer_id
    try:
        if action == "accept":
            kept = merge_suggestion_accept(suggestion_id=suggestion.pk, member_id=request.user.pk)
            messages.success(request, _("The two customers are now one."))
            return redirect("customers:detail", pk=kept.pk)
        merge_suggestion_dismiss(suggestion_id=suggestion.pk, member_id=request.user.pk)
        messages.success(request, _("Kept apart: this pair will not be suggested again for this reason."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("customers:detail", pk=back)
