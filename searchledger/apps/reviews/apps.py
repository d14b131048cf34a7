"""App configuration: supervisory review."""

from django.apps import AppConfig

__all__ = ["ReviewsConfig"]


class ReviewsConfig(AppConfig):
    """Supervisory review campaigns: a sample of a unit's searches for a period, reviewed against a
    checklist."""

    name = "searchledger.apps.reviews"
    label = "reviews"
    verbose_name = "Supervisory review"
