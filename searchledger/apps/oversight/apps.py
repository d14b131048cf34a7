"""App configuration: oversight recommendations."""

from django.apps import AppConfig

__all__ = ["OversightConfig"]


class OversightConfig(AppConfig):
    """The register of oversight bodies' recommendations and the agency's responses."""

    name = "searchledger.apps.oversight"
    label = "oversight"
    verbose_name = "Oversight recommendations"
