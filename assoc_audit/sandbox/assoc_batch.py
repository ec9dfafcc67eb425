"""The v4 association operations as transactions (single and batch), without HTTP.

Each call is one write (or read) transaction. Batch writes apply every input
they can and return the others as per-input errors (a 207 for the caller);
a malformed request (an association type that does not belong to the pair)
fails as a whole before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assoc_audit.sandbox.associations import (
    Associations,
    AssocPage,
    LinkSpec,
    Ref,
    Tx,
    to_record_id,
)
from assoc_audit.sandbox.exceptions import ApiError, BatchItemError, not_found
from assoc_audit.sandbox.objecttypes import AssocType, ObjectType
from assoc_audit.sandbox.portals import Portal, Registry
from assoc_audit.sandbox.store import Store

__all__ = ["AssociationBatch", "CreatedPair", "DefaultPair"]


@dataclass(frozen=True)
class CreatedPair:
    """The labels between a pair after a create (HubSpot's ``LabelsBetweenObjectPair``)."""

    from_obj: ObjectType
    from_id: int
    to_obj: ObjectType
    to_id: int
    labels: tuple[str, ...]


@dataclass(frozen=True)
class DefaultPair:
    """One created default association, in one direction."""

    from_id: int
    to_id: int
    type: AssocType


class AssociationBatch:
    """v4 association reads and writes for every portal in a store."""

    def __init__(self, store: Store, registry: Registry, assoc: Associations) -> None:
        self._store = store
        self._registry = registry
        self._assoc = assoc

    @staticmethod
    def _refs(f: ObjectType, f_text: str, t: ObjectType, t_text: str) -> tuple[Ref, Ref]:
        f_id, t_id = to_record_id(f_text), to_record_id(t_text)
        if f_id is None:
            raise not_found(f"{f.upper} {f_text} does not exist")
        if t_id is None:
            raise not_found(f"{t.upper} {t_text} does not exist")
        return Ref(f, f_id), Ref(t, t_id)

    def create(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        items: Sequence[tuple[str, str, Sequence[LinkSpec]]],
    ) -> tuple[list[CreatedPair], list[BatchItemError]]:
        """Create labelled (or unlabeled) links; per-input errors for refused ones."""
        schema = self._registry.schema(portal)
        resolved = [
            (f, t, self._assoc.resolve_specs(schema, from_obj, to_obj, specs))
            for f, t, specs in items
        ]
        done: list[tuple[Ref, Ref]] = []
        errors: list[BatchItemError] = []
        with self._assoc.write_tx(portal) as tx:
            for f_text, t_text, types in resolved:
                try:
                    a, b = self._refs(from_obj, f_text, to_obj, t_text)
                    self._assoc.link(tx, a, b, types)
                except ApiError as exc:
                    errors.append(exc.item())
                    continue
                done.append((a, b))
            results = [self._pair(tx, a, b) for a, b in done]
        return results, errors

    @staticmethod
    def _pair(tx: Tx, a: Ref, b: Ref) -> CreatedPair:
        ids = tx.conn.execute(
            "SELECT type_id FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
            "AND to_id=? ORDER BY type_id",
            (tx.pid, a.obj.code, a.id, b.obj.code, b.id),
        ).fetchall()
        labels = tuple(
            lab for (tid,) in ids if (lab := getattr(tx.schema.assoc_types.get(tid), "label", None))
        )
        return CreatedPair(a.obj, a.id, b.obj, b.id, labels)

    def create_default(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        items: Sequence[tuple[str, str]],
    ) -> tuple[list[DefaultPair], list[BatchItemError]]:
        """Create unlabeled links; each created link is reported in both directions."""
        results: list[DefaultPair] = []
        errors: list[BatchItemError] = []
        with self._assoc.write_tx(portal) as tx:
            unl = tx.schema.unlabeled(from_obj.code, to_obj.code)
            for f_text, t_text in items:
                try:
                    a, b = self._refs(from_obj, f_text, to_obj, t_text)
                    self._assoc.link(tx, a, b, [])
                except ApiError as exc:
                    errors.append(exc.item())
                    continue
                assert unl is not None
                results.append(DefaultPair(a.id, b.id, unl))
                results.append(DefaultPair(b.id, a.id, tx.schema.assoc_types[unl.inverse_id]))
        return results, errors

    def archive(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        items: Sequence[tuple[str, Sequence[str]]],
    ) -> None:
        """Remove every association between each from id and each of its to ids."""
        with self._assoc.write_tx(portal) as tx:
            for f_text, to_texts in items:
                for t_text in to_texts:
                    try:
                        a, b = self._refs(from_obj, f_text, to_obj, t_text)
                    except ApiError:
                        continue
                    self._assoc.unlink(tx, a, b)

    def archive_labels(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        items: Sequence[tuple[str, str, Sequence[LinkSpec]]],
    ) -> None:
        """Remove the given types between pairs (the unlabeled type removes every label)."""
        schema = self._registry.schema(portal)
        resolved = [
            (f, t, self._assoc.resolve_specs(schema, from_obj, to_obj, specs))
            for f, t, specs in items
        ]
        with self._assoc.write_tx(portal) as tx:
            for f_text, t_text, types in resolved:
                try:
                    a, b = self._refs(from_obj, f_text, to_obj, t_text)
                except ApiError:
                    continue
                if types:
                    self._assoc.unlink(tx, a, b, types)

    def page(
        self,
        portal: Portal,
        from_obj: ObjectType,
        from_text: str,
        to_obj: ObjectType,
        *,
        after: int | None,
        limit: int,
    ) -> AssocPage:
        """One page of a record's associations (empty for an unknown record)."""
        from_id = to_record_id(from_text)
        if from_id is None:
            return AssocPage(-1, (), None)
        with self._assoc.read_tx(portal) as tx:
            return self._assoc.page(tx, Ref(from_obj, from_id), to_obj, after=after, limit=limit)

    def read(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        inputs: Sequence[tuple[str, int | None]],
        page_size: int,
    ) -> tuple[list[tuple[str, AssocPage]], list[BatchItemError]]:
        """Batch read: a page per from id; ids without associations are per-input errors."""
        results: list[tuple[str, AssocPage]] = []
        errors: list[BatchItemError] = []
        seen: set[tuple[str, int | None]] = set()
        with self._assoc.read_tx(portal) as tx:
            for f_text, after in inputs:
                if (f_text, after) in seen:
                    continue
                seen.add((f_text, after))
                f_id = to_record_id(f_text)
                page = (
                    self._assoc.page(tx, Ref(from_obj, f_id), to_obj, after=after, limit=page_size)
                    if f_id is not None
                    else None
                )
                if page is None or not page.links:
                    errors.append(self._assoc.missing_error(from_obj, to_obj, f_text).item())
                    continue
                results.append((f_text, page))
        return results, errors
