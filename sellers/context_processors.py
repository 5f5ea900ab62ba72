from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def seller(request: HttpRequest) -> dict[str, Any]:
    from sellers.middleware import request_membership

    current = getattr(request, "seller", None)
    membership = request_membership(request) if current is not None else None
    return {
        "current_seller": current,
        "current_membership": membership,
        "is_owner": bool(
            current is not None and (getattr(request.user, "is_staff", False) or (membership and membership.is_owner))
        ),
        "base_domain": settings.BASE_DOMAIN,
    }
