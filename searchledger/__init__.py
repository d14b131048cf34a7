"""searchledger: the system of record for accountable searches of sensitive databases."""

__all__ = ["__version__"]

__version__ = "0.1.0"
