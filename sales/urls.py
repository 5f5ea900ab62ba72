from __future__ import annotations

from django.urls import path

from sales import bot_views, order_views, views

catalog_patterns = (
    [
        path("", views.catalog_list, name="list"),
        path("new/", views.product_edit, name="create"),
        path("<int:pk>/", views.product_edit, name="edit"),
        path("<int:pk>/archive/", views.product_archive_view, name="archive"),
        path("<int:pk>/restore/", views.product_restore_view, name="restore"),
        path("export.csv", views.catalog_export, name="export"),
        path("import/", views.catalog_import, name="import"),
        path("import/<int:pk>/", views.catalog_import_detail, name="import_detail"),
        path("import/<int:pk>/status/", views.catalog_import_status, name="import_status"),
    ],
    "catalog",
)

settings_patterns = (
    [
        path("bot/", views.bot_settings_view, name="bot"),
        path("bot/toggle/", views.bot_toggle, name="bot_toggle"),
        path("delivery/", views.delivery_settings, name="delivery"),
        path("bot/try/", bot_views.try_bot, name="try_bot"),
        path("bot/try/reset/", bot_views.try_bot_reset, name="try_bot_reset"),
        path("usage/", bot_views.usage, name="usage"),
    ],
    "settings",
)

order_patterns = (
    [
        path("", order_views.orders_page, name="list"),
        path("new/", order_views.order_create_view, name="create"),
        path("export.csv", order_views.orders_export, name="export"),
        path("<int:pk>/", order_views.order_page, name="detail"),
        path("<int:pk>/status/", order_views.order_status_view, name="status"),
    ],
    "orders",
)
