"""The catalog API of one seller, under the seller's domain (members only)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from sales.api.serializers import CategorySerializer, ProductSerializer
from sales.models import Category, Product
from sales.selectors import product_list
from sales.services.catalog import (
    ProductChanges,
    VariantData,
    category_for_name,
    product_archive,
    product_restore,
    product_save,
)


def _as_drf_error(error: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(error, "error_dict"):
        return serializers.ValidationError(error.message_dict)
    return serializers.ValidationError({"non_field_errors": error.messages})


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Search names, code, synonyms, SKUs."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=["active", "archived", "all"]),
        ]
    ),
    destroy=extend_schema(description="Archives the product (it can be restored)."),
)
class ProductViewSet(viewsets.ModelViewSet):
    serializer_class = ProductSerializer

    def get_queryset(self) -> QuerySet[Product]:
        if self.action == "list":
            return product_list(
                query=self.request.query_params.get("q", "")[:100],
                status=self.request.query_params.get("status", "active"),
            )
        return product_list(status="all")

    def _changes(self, data: dict[str, Any], product: Product | None) -> ProductChanges:
        fields = {k: v for k, v in data.items() if k not in ("variants", "category")}
        if "category" in data:
            fields["category"] = category_for_name((data["category"] or {}).get("name") or "")
        variants: list[VariantData] = []
        deleted: list[int] = []
        if "variants" in data:
            variants = [VariantData(**item) for item in data["variants"]]
            if product is not None:
                keep = {v.id for v in variants if v.id}
                deleted = [pk for pk in product.variants.values_list("pk", flat=True) if pk not in keep]
        elif product is not None:
            variants = [
                VariantData(
                    id=v.pk, sku=v.sku, size=v.size, colour=v.colour, stock=v.stock, price_override=v.price_override
                )
                for v in product.variants.all()
            ]
        return ProductChanges(fields=fields, variants=variants, delete_variant_ids=deleted)

    def _save(self, serializer: serializers.BaseSerializer, product: Product | None) -> Product:
        serializer.is_valid(raise_exception=True)
        try:
            return product_save(product=product, changes=self._changes(dict(serializer.validated_data), product))
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product = self._save(self.get_serializer(data=request.data), None)
        return Response(self.get_serializer(product).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        product = self._save(serializer, instance)
        return Response(self.get_serializer(product_list(status="all").get(pk=product.pk)).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        product_archive(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ProductSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str | None = None) -> Response:
        product = product_restore(product=self.get_object())
        return Response(self.get_serializer(product).data)


class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CategorySerializer

    def get_queryset(self) -> QuerySet[Category]:
        return Category.objects.annotate(product_count=Count("products")).order_by("name")
