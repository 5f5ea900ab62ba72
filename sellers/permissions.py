from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from sellers.selectors import user_can_access_seller


class IsSellerMember(BasePermission):
    """The API of a seller is open to that seller's members (and platform staff) only."""

    message = "You are not a member of this shop."

    def has_permission(self, request: Request, view: Any) -> bool:
        seller = getattr(request._request, "seller", None)
        return user_can_access_seller(request.user, seller)
