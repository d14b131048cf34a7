"""Bulk CSV import of people, access grants and training completions, with a dry run."""

__all__: list[str] = []
