"""The widget's HTTP fallback (public site), its settings page (dashboard) and the demo shop."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels_app.models import ChannelAccount
from channels_app.ratelimit import allow
from channels_app.widget.inbound import WidgetInputError, clean_visitor, inbound_from
from channels_app.widget.services import (
    origin_allowed,
    widget_account_ensure,
    widget_account_for_key,
    widget_history,
    widget_settings_update,
)
from conversations.services import ingest
from ma5zani.inputs import strict_int
from sellers.middleware import require_owner
from sellers.models import Seller

ERROR = inline_serializer("WidgetError", {"code": serializers.CharField(), "detail": serializers.CharField()})
MESSAGE = inline_serializer(
    "WidgetMessage",
    {
        "id": serializers.IntegerField(),
        "author": serializers.ChoiceField(["customer", "bot", "seller"]),
        "text": serializers.CharField(),
        "quick_replies": serializers.ListField(child=serializers.CharField()),
        "cards": serializers.ListField(child=serializers.DictField()),
        "created_at": serializers.DateTimeField(),
        "client_id": serializers.CharField(),
    },
)


def _error(code: str, detail: str, status_code: int) -> Response:
    return Response({"code": code, "detail": detail}, status=status_code)


def _final_code(response: Any) -> str:
    """The code of a refusal that asking again cannot change (the widget stops on it)."""
    data = getattr(response, "data", None)
    return str(data.get("code", "")) if isinstance(data, dict) else ""


class WidgetAPIView(APIView):
    """Public, key-based: no session, no CSRF; CORS for the seller's allowed origins only."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    account: ChannelAccount | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        key = request.query_params.get("key") or (request.data.get("key") if isinstance(request.data, dict) else None)
        self.account = widget_account_for_key(key or "")

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        if origin and self.account is not None and origin_allowed(self.account, origin):
            response["Access-Control-Allow-Origin"] = origin
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Max-Age"] = "600"
        elif origin and _final_code(response) in ("unknown_key", "forbidden_origin"):
            # Any page may read why it is refused (it holds no data), so that the widget stops.
            response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
        return response

    def _checked(self, request: Request, visitor: Any) -> tuple[ChannelAccount, str] | Response:
        if self.account is None:
            return _error("unknown_key", "No widget has this key.", status.HTTP_404_NOT_FOUND)
        if not origin_allowed(self.account, request.headers.get("Origin")):
            return _error("forbidden_origin", "This site may not use this widget.", status.HTTP_403_FORBIDDEN)
        try:
            return self.account, clean_visitor(visitor)
        except WidgetInputError as error:
            return _error(error.code, error.detail, status.HTTP_400_BAD_REQUEST)

    def handle_exception(self, exc: Exception) -> Response:
        """A body that is not JSON (or too deep, or holds a NUL): the widget's error shape."""
        if isinstance(exc, ParseError):
            code = exc.get_codes()
            code = code if isinstance(code, str) and code != ParseError.default_code else "malformed"
            return _error(code, str(exc.detail), status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)

    def options(self, request: Request, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Read the visitor's messages after an id",
        parameters=[
            OpenApiParameter("key", OpenApiTypes.STR, required=True, description="The widget's public key."),
            OpenApiParameter("visitor", OpenApiTypes.UUID, required=True, description="The visitor id."),
            OpenApiParameter("after", OpenApiTypes.INT, description="Only messages with a greater id."),
        ],
        responses={200: inline_serializer("WidgetHistory", {"messages": MESSAGE}), 400: ERROR, 403: ERROR, 404: ERROR},
        tags=["widget"],
    )
    def get(self, request: Request) -> Response:
        checked = self._checked(request, request.query_params.get("visitor"))
        if isinstance(checked, Response):
            return checked
        account, visitor = checked
        after_id = strict_int(request.query_params.get("after", "0"))
        if after_id is None:
            return _error("bad_after", "after must be a message id (ASCII digits).", status.HTTP_400_BAD_REQUEST)
        with schema_context(account.seller.schema_name):
            history = widget_history(account, visitor, after=after_id)
        return Response({"messages": history})

    @extend_schema(
        summary="Send a customer message (stored once per client_id)",
        request=inline_serializer(
            "WidgetPost",
            {
                "key": serializers.CharField(),
                "visitor": serializers.UUIDField(),
                "client_id": serializers.UUIDField(),
                "text": serializers.CharField(max_length=settings.MESSAGE_MAX_CHARS),
            },
        ),
        responses={
            201: inline_serializer(
                "WidgetAck", {"id": serializers.IntegerField(), "duplicate": serializers.BooleanField()}
            ),
            200: OpenApiResponse(description="Already stored (a repeated client_id)."),
            400: ERROR,
            403: ERROR,
            404: ERROR,
            429: ERROR,
        },
        tags=["widget"],
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        checked = self._checked(request, data.get("visitor"))
        if isinstance(checked, Response):
            return checked
        account, visitor = checked
        try:
            inbound = inbound_from(data, account=account, visitor=visitor)
        except WidgetInputError as error:
            return _error(error.code, error.detail, status.HTTP_400_BAD_REQUEST)
        schema = account.seller.schema_name
        if not (
            allow(settings.WIDGET_RATE_LIMIT_VISITOR, "widget", schema, "visitor", visitor)
            and allow(settings.WIDGET_RATE_LIMIT_IP, "widget", "ip", request.META.get("REMOTE_ADDR", ""))
        ):
            return _error("rate_limited", "Too many messages; wait a moment.", status.HTTP_429_TOO_MANY_REQUESTS)
        with schema_context(schema):
            result = ingest(inbound)
        return Response(
            {"id": result.message_id, "duplicate": not result.created},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


# --- Dashboard ----------------------------------------------------------------------------


def widget_settings(request: HttpRequest) -> HttpResponse:
    seller: Seller | None = getattr(request, "seller", None)
    if seller is None:
        raise Http404
    account = widget_account_ensure(seller)
    origins_text = "\n".join(account.config.get("allowed_origins", []))
    errors: list[str] = []
    if request.method == "POST":
        require_owner(request)
        origins_text = request.POST.get("origins", "")
        try:
            widget_settings_update(
                account=account,
                origins=origins_text.splitlines(),
                regenerate_key=request.POST.get("regenerate") == "1",
            )
        except ValidationError as exc:
            errors = list(exc.messages)
        else:
            messages.success(request, _("Web chat settings saved."))
            return redirect("dashboard:widget")
    return render(
        request,
        "dashboard/widget.html",
        {"account": account, "origins_text": origins_text, "errors": errors, "site_url": settings.SITE_URL},
    )


# --- Demo shop ----------------------------------------------------------------------------


def demo_shop(request: HttpRequest) -> HttpResponse:
    """A shop page of the demo seller with its widget, to try the chat as a customer."""
    from sales.models import Product

    seller = Seller.objects.filter(slug="demo", is_active=True).first()
    if seller is None:
        raise Http404("Load the demo seller first (make run does).")
    account = widget_account_ensure(seller)
    with schema_context(seller.schema_name):
        products = list(Product.objects.live().prefetch_related("images", "variants").order_by("pk")[:12])
    return render(
        request, "public/demo_shop.html", {"seller": seller, "products": products, "widget_key": account.external_id}
    )
