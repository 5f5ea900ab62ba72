from __future__ import annotations

from django.urls import path

from learning import views

knowledge_patterns = (
    [
        path("", views.knowledge_page, name="list"),
        path("new/", views.knowledge_create_view, name="create"),
        path("review/", views.knowledge_bulk, name="bulk"),
        path("export.csv", views.knowledge_export, name="export"),
        path("import/", views.knowledge_import_view, name="import"),
        path("<int:pk>/", views.knowledge_edit_view, name="edit"),
    ],
    "knowledge",
)
