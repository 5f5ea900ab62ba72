from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sales.models import Category, Product, ProductImage, Variant


class VariantSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(required=False)
    price = serializers.IntegerField(read_only=True, help_text="Price in DZD after the override.")

    class Meta:
        model = Variant
        fields = ["id", "sku", "size", "colour", "stock", "price_override", "price"]
        extra_kwargs: dict[str, dict[str, object]] = {"sku": {"validators": []}}


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "url", "alt_text", "position"]

    def get_url(self, image: ProductImage) -> str:
        request = self.context.get("request")
        url = image.image.url
        return request.build_absolute_uri(url) if request else url


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.CharField(
        source="category.name", required=False, allow_blank=True, allow_null=True, max_length=120
    )
    synonyms = serializers.ListField(child=serializers.CharField(max_length=80), required=False, max_length=50)
    variants = VariantSerializer(
        many=True,
        required=False,
        help_text=(
            "When given, the list is the product's whole set of variants: items with an id are "
            "updated, items without one are created, and variants left out are deleted."
        ),
    )
    images = ImageSerializer(many=True, read_only=True)
    code = serializers.SlugField(required=False, max_length=64, validators=[])

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name_ar",
            "name_fr",
            "name_en",
            "description_ar",
            "description_fr",
            "description_en",
            "synonyms",
            "category",
            "price",
            "compare_at_price",
            "is_active",
            "archived_at",
            "variants",
            "images",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["archived_at", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("variants"):
            raise serializers.ValidationError({"variants": "A product needs at least one variant."})
        if self.instance is None and "price" not in attrs:
            raise serializers.ValidationError({"price": "This field is required."})
        return attrs


class CategorySerializer(serializers.ModelSerializer):
    product_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Category
        fields = ["id", "name", "product_count"]
