"""Dashboard pages of the orders: list with filters, detail with status changes, a new order
taken by the seller, CSV export. Thin: parse, call the order services, render."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversations.models import Channel
from sales.forms import SellerOrderForm
from sales.geo import wilaya_by_number
from sales.models import Order
from sales.selectors import order_list
from sales.services.orders import (
    TRANSITIONS,
    SellerOrderData,
    order_create_by_seller,
    order_set_status,
    orders_csv_rows,
)
from sales.views import add_validation_error


def _filters(request: HttpRequest) -> dict[str, str]:
    return {
        "status": request.GET.get("status", "")[:16],
        "channel": request.GET.get("channel", "")[:16] if request.GET.get("channel") in Channel.values else "",
        "created_by": request.GET.get("created_by", "")[:8],
        "query": request.GET.get("q", "")[:100],
        "since": request.GET.get("since", "")[:10],
    }


def _orders(filters: dict[str, str]) -> QuerySet[Order]:
    return order_list(
        status=filters["status"],
        channel=filters["channel"],
        created_by=filters["created_by"],
        query=filters["query"],
        since=_date(filters["since"]),
    )


def _date(value: str) -> dt.date | None:
    """A date filter as the date input sends it; a date that does not exist filters nothing."""
    try:
        return parse_date(value) if value else None
    except ValueError:  # well formed, but no such day (2026-13-45)
        return None


def orders_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    page = Paginator(_orders(filters), 30).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    return render(
        request,
        "sales/order_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Order.Status.choices,
            "channels": Channel.choices,
            "query_string": query_string.urlencode(),
        },
    )


def order_page(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("conversation"), pk=pk)
    wilaya = wilaya_by_number(order.wilaya) if order.wilaya else None
    next_statuses = [(value, label) for value, label in Order.Status.choices if value in TRANSITIONS[order.status]]
    return render(
        request,
        "sales/order_detail.html",
        {
            "order": order,
            "items": order.items.all(),
            "history": order.history.all(),
            "wilaya": wilaya,
            "next_statuses": next_statuses,
        },
    )


@require_POST
def order_status_view(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(Order, pk=pk)
    try:
        order_set_status(
            order=order,
            status=request.POST.get("status", ""),
            member_id=int(request.user.pk or 0),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Order updated."))
    return redirect("orders:detail", pk=pk)


def order_create_view(request: HttpRequest) -> HttpResponse:
    form = SellerOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = order_create_by_seller(
                data=SellerOrderData(**form.cleaned_data), member_id=int(request.user.pk or 0)
            )
        except ValidationError as exc:
            add_validation_error(form, exc)
        else:
            messages.success(request, _("Order %(reference)s created.") % {"reference": order.reference})
            return redirect("orders:detail", pk=order.pk)
    return render(request, "sales/order_form.html", {"form": form})


def orders_export(request: HttpRequest) -> StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        orders_csv_rows(_orders(_filters(request)).iterator(chunk_size=500)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
    return response
