"""The catalogue of external systems that officers search, and their rules of behaviour."""
