"""WSGI entry point for production servers (e.g. ``gunicorn searchledger.config.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

__all__ = ["application"]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchledger.config.settings")
application = get_wsgi_application()
