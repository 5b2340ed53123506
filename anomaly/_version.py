"""The package's version, in a module of its own.

Subpackages that record or show the version (artifact manifests, the report's footer,
``anomaly --version``) import it from here rather than from ``anomaly``: importing the
top-level package from inside it would close an import circle through
``anomaly/__init__.py``. Keep it equal to ``version`` in ``pyproject.toml``.
"""

__version__ = "0.3.0"
