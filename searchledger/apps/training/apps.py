"""App configuration for training."""

from django.apps import AppConfig

__all__ = ["TrainingConfig"]


class TrainingConfig(AppConfig):
    """Training and rules of behaviour."""

    name = "searchledger.apps.training"
    label = "training"
    verbose_name = "Training"
