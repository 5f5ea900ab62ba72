"""The public site plus a bare endpoint that stores one row, the baseline of widget_load.py."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import schema_context

from ma5zani.urls_public import urlpatterns as public_urlpatterns


@csrf_exempt
def store_one(request: HttpRequest) -> JsonResponse:
    from bench.benchapp.models import Note

    with schema_context(request.GET.get("schema", "s_bench_load")):
        note = Note.objects.create(text=request.body.decode()[:200])
    return JsonResponse({"id": note.pk}, status=201)


urlpatterns = [path("bench/store-one/", store_one), *public_urlpatterns]
