"""The pure domain core: rules that do not depend on Django or on any storage."""

__all__: list[str] = []
