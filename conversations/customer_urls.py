from __future__ import annotations

from django.urls import path

from conversations import customer_views

customer_patterns = (
    [
        path("", customer_views.customers_page, name="list"),
        path("<int:pk>/", customer_views.customer_page, name="detail"),
        path("<int:pk>/merge/", customer_views.customer_merge_view, name="merge"),
        path("suggestions/<int:pk>/<slug:action>/", customer_views.merge_suggestion_view, name="suggestion"),
    ],
    "customers",
)
