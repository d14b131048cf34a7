"""Django apps, one per domain, each with the same file roles."""
