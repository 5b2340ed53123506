"""anomaly: find sanctions evasion in international trade statistics."""

from anomaly import errors

__version__ = "0.1.0"

__all__ = ["__version__", "errors"]
