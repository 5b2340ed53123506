"""Content schemas: what a model class's artifact must hold, checked on every read.

The storage layer verifies an artifact's files (manifest, digests, array and table
encodings) but does not know what the numbers mean. A model class that stores itself
as an artifact registers a :class:`ContentSchema` under its ``model_class`` name; its
two checks run on every verification, so ``anomaly inspect`` refuses what loading the
model would refuse:

1. :meth:`ContentSchema.check_manifest` — config, metadata, array dtypes and shapes,
   table columns and row counts, cross-file consistency — runs on the verified
   manifest *before* any array or table is read (shapes there bound what reading
   allocates);
2. :meth:`ContentSchema.check_content` — value ranges, codes, keys — runs on the loaded
   :class:`~anomaly.artifacts.Artifact`.

Each raises :class:`~anomaly.errors.ArtifactSchemaError` naming the file and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    from anomaly.artifacts.store import Artifact

__all__ = ["ContentSchema", "register_schema", "registered_schema"]


class ContentSchema(Protocol):
    """The checks of one model class's artifacts."""

    def check_manifest(self, manifest: Mapping[str, Any], where: str) -> None:
        """Check the verified manifest before any data file is read."""

    def check_content(self, artifact: Artifact, where: str) -> None:
        """Check the loaded arrays and tables."""


_SCHEMAS: dict[str, ContentSchema] = {}


def register_schema(model_class: str, schema: ContentSchema) -> ContentSchema:
    """Make ``schema`` the checks of every artifact whose ``model_class`` is this.

    Examples
    --------
    >>> class Anything:
    ...     def check_manifest(self, manifest, where): pass
    ...     def check_content(self, artifact, where): pass
    >>> register_schema("Example", Anything()) is registered_schema("Example")
    True
    """
    _SCHEMAS[model_class] = schema
    return schema


def registered_schema(model_class: object) -> ContentSchema | None:
    """The schema registered for ``model_class``, if any."""
    return _SCHEMAS.get(model_class) if isinstance(model_class, str) else None
