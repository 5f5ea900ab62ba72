from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Channels"

    def ready(self) -> None:
        # Each channel package registers its adapter.
        from channels_app.meta import adapter as meta_adapter  # noqa: F401
        from channels_app.whatsapp import adapter as whatsapp_adapter  # noqa: F401
        from channels_app.widget import adapter  # noqa: F401
