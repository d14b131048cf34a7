"""URLs for the ledger (checkpoint and tiles follow the C2SP tlog-tiles layout)."""

from django.urls import path

from searchledger.apps.ledger import views

__all__ = ["urlpatterns"]

app_name = "ledger"

urlpatterns = [
    path("", views.ledger_index, name="index"),
    path("checkpoint", views.ledger_checkpoint, name="checkpoint"),
    path("tile/<path:tile_path>", views.ledger_tile, name="tile"),
]
