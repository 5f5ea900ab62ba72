from __future__ import annotations

from django.contrib import admin

from channels_app.models import ChannelAccount
from ma5zani.admin_sites import platform_admin


@admin.register(ChannelAccount, site=platform_admin)
class ChannelAccountAdmin(admin.ModelAdmin):
    list_display = ["seller", "channel", "display_name", "external_id", "status", "updated_at"]
    list_filter = ["channel", "status"]
    search_fields = ["seller__name", "external_id", "display_name"]
    autocomplete_fields = ["seller"]
