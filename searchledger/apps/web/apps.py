"""App configuration for the web shell."""

from django.apps import AppConfig

__all__ = ["WebConfig"]


class WebConfig(AppConfig):
    """Base templates, middleware and the home page."""

    name = "searchledger.apps.web"
    label = "web"
    verbose_name = "Web"
