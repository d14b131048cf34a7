"""The JSON API (django-ninja), with its OpenAPI schema at /api/openapi.json."""
