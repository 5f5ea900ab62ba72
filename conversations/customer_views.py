"""The customers pages: a list with search, one profile with every conversation and order on
every channel, and merging two customers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversations.customers import customers_merge
from conversations.models import Customer
from conversations.selectors import customer_list
from ma5zani.inputs import strict_int


def customers_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:100]
    page = Paginator(customer_list(query=query), 30).get_page(request.GET.get("page"))
    return render(request, "conversations/customer_list.html", {"page": page, "query": query})


def customer_page(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(Customer.objects.prefetch_related("identities"), pk=pk)
    return render(
        request,
        "conversations/customer_detail.html",
        {
            "customer": customer,
            "conversations": customer.conversations.filter(is_sandbox=False).order_by("-last_message_at"),
            "orders": customer.orders.filter(is_test=False).prefetch_related("items").order_by("-created_at"),
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
        customers_merge(keep=keep, merge=merge)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The two customers are now one."))
    return redirect("customers:detail", pk=pk)
