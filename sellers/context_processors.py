from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def seller(request: HttpRequest) -> dict[str, Any]:
    from sellers.middleware import request_is_owner

    current = getattr(request, "seller", None)
    return {
        "current_seller": current,
        "is_owner": current is not None and request_is_owner(request),
        "base_domain": settings.BASE_DOMAIN,
    }
