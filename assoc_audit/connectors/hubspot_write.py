"""Writing to a portal: association edges in batches with per-edge outcomes, and sample records.

Edges (DESIGN §4 shape, this side's label text) are put in their audited pair's
direction, their labels turned into association types through the pair's label
definitions (``Primary`` → the HubSpot-defined primary type, null → the
unlabeled type, other text → the label of that name; definitions are read
again once if a label is unknown), and compared with the links the portal
holds now (a v4 batch read of the from-records involved), so every row gets
``ok``, ``already`` or ``failed``:

- create: v4 ``batch/create``, one input per record pair with every type asked
  for it, at most ``write_batch_size`` inputs per request; a 207 marks the
  inputs missing from its results ``failed`` with HubSpot's message;
- remove: labels with ``batch/labels/archive`` (exactly the type given), the
  unlabeled link with ``batch/archive`` (which, in HubSpot, removes every label
  of the pair too — fix plans list that side effect as its own operation).

A request that fails as a whole (after the caller's retries) fails its rows
with the message; a refused token (401/403) stops the write with
:class:`~assoc_audit.errors.AuthError`. Writes are idempotent, so a retried
request (a dropped connection after HubSpot applied it) does no harm.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ..errors import AssocAuditError, AuthError, DataError, HubSpotAPIError
from ..tables import TEXT
from .app import AppLayout
from .base import WriteResult, outcome_frame
from .hubspot_api import ApiCaller, HubSpotApis
from .hubspot_fetch import read_scopes
from .writeplan import EdgeRequest, stored_edge_keys

if TYPE_CHECKING:
    from .hubspot import HubSpotConnector

__all__ = ["EdgeWriter"]

Pair = tuple[str, str]


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    size = max(1, size)
    return [items[i : i + size] for i in range(0, len(items), size)]


def _item_message(errors: Sequence[Any], ids: Sequence[str]) -> str | None:
    """The message of the 207 error that names one of ``ids`` (or the only error)."""
    for err in errors:
        context = getattr(err, "context", None) or {}
        values = {str(v) for vs in context.values() for v in (vs or [])}
        if values & set(ids):
            return str(err.message)
    if len(errors) == 1:
        return str(errors[0].message)
    return None


class EdgeWriter:
    """One write call's worth of work for a :class:`~.hubspot.HubSpotConnector`."""

    def __init__(self, connector: HubSpotConnector, apis: HubSpotApis, caller: ApiCaller) -> None:
        self._c = connector
        self._apis = apis
        self._caller = caller
        self._config = connector._config
        names = {obj: obj for obj in self._config.audited_objects}
        self._layout = AppLayout(hub_of=names, app_of=names, pairs=self._config.pairs)
        self._assoc_conf = apis.assoc_batch.api_client.configuration

    # -- edges --------------------------------------------------------------------------

    def write_edges(self, edges: pd.DataFrame, *, create: bool) -> WriteResult:
        request = EdgeRequest.build(edges, self._layout)
        frame = request.edges
        n = len(frame)
        message = request.error.to_numpy(dtype=object).copy()
        failed = request.error.notna().to_numpy().copy()
        type_ids = np.full(n, -1, dtype=np.int64)
        categories = np.full(n, None, dtype=object)
        pairs = frame["from_object"].astype(object) + "\x1f" + frame["to_object"].astype(object)
        todo = request.writable
        wanted = pd.DataFrame({"pair": pairs, "label": frame["label"].astype(object)})[todo]
        groups = wanted.groupby(["pair", "label"], dropna=False).groups
        for group, index in groups.items():
            key, text = cast(tuple[str, Any], group)
            first, second = str(key).split("\x1f", 1)
            pair: Pair = (first, second)
            label: str | None = None if pd.isna(text) else str(text)
            rows = frame.index.get_indexer(index)
            kind = self._c.pair_types(pair).for_label(label)
            if kind is None:
                kind = self._c.pair_types(pair, refresh=True).for_label(label)
            if kind is None:
                failed[rows] = True
                message[rows] = self._no_type(pair, label)
                continue
            type_ids[rows] = kind.type_id
            categories[rows] = kind.category
        stored = self._stored(frame, todo & ~failed)
        write, status = request.decide(stored, create=create)
        write &= ~failed
        status = status.astype(object)
        status[failed] = "failed"
        for key in pd.unique(pairs[write]):
            first, second = str(key).split("\x1f", 1)
            pair = (first, second)
            rows = np.flatnonzero(write & (pairs == key).to_numpy())
            if not len(rows):
                continue
            if create:
                self._create(pair, frame, rows, type_ids, categories, status, message)
            else:
                self._remove(pair, frame, rows, type_ids, categories, status, message)
        op = "create_edges" if create else "remove_edges"
        return WriteResult(op, outcome_frame(frame, status, message))

    def _no_type(self, pair: Pair, label: str | None) -> str:
        f, t = self._c.api_object(pair[0]), self._c.api_object(pair[1])
        if label is None:
            return f"HubSpot has no unlabeled association type from {f} to {t}"
        if label == "Primary":
            return f"HubSpot has no primary association type from {f} to {t}"
        known = ", ".join(repr(x) for x in self._c.pair_types(pair).labels) or "none"
        return f"no association label {label!r} from {f} to {t} in HubSpot (labels there: {known})"

    def _stored(self, frame: pd.DataFrame, rows: np.ndarray) -> pd.Series:
        """Keys of the links the portal holds now for the from-records of ``rows``."""
        parts = []
        sub = frame.loc[rows]
        for (f, t), group in sub.groupby(["from_object", "to_object"], sort=False):
            ids = group["from_id"].astype(str).unique().tolist()
            parts.append(self._c.read_associations((str(f), str(t)), from_ids=ids))
        if not parts:
            return pd.Series([], dtype=TEXT)
        return stored_edge_keys(pd.concat(parts, ignore_index=True), self._layout)

    def _specs(self, rows: Sequence[int], type_ids: np.ndarray, categories: np.ndarray) -> Any:
        from hubspot.crm.associations.v4 import AssociationSpec

        return [
            AssociationSpec(
                association_category=categories[r],
                association_type_id=int(type_ids[r]),
                local_vars_configuration=self._assoc_conf,
            )
            for r in rows
        ]

    def _grouped(self, frame: pd.DataFrame, rows: np.ndarray) -> dict[tuple[str, str], list[int]]:
        groups: dict[tuple[str, str], list[int]] = {}
        f_ids = frame["from_id"].astype(str).to_numpy()
        t_ids = frame["to_id"].astype(str).to_numpy()
        for r in rows:
            groups.setdefault((f_ids[r], t_ids[r]), []).append(int(r))
        return groups

    def _create(
        self,
        pair: Pair,
        frame: pd.DataFrame,
        rows: np.ndarray,
        type_ids: np.ndarray,
        categories: np.ndarray,
        status: np.ndarray,
        message: np.ndarray,
    ) -> None:
        from hubspot.crm.associations.v4 import (
            BatchInputPublicAssociationMultiPost,
            PublicAssociationMultiPost,
            PublicObjectId,
        )

        f, t = self._c.api_object(pair[0]), self._c.api_object(pair[1])
        groups = list(self._grouped(frame, rows).items())
        for chunk in _chunks(groups, self._c.write_batch_size):
            inputs = [
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=fid),
                    to=PublicObjectId(id=tid),
                    types=self._specs(members, type_ids, categories),
                )
                for (fid, tid), members in chunk
            ]
            members = [m for _, ms in chunk for m in ms]
            try:
                reply = self._caller.call(
                    "assoc.batch_create",
                    f"creating {f}→{t} associations",
                    self._apis.assoc_batch.create_with_http_info,
                    f,
                    t,
                    BatchInputPublicAssociationMultiPost(inputs=inputs),
                    ok=(201, 207),
                    scopes=read_scopes(f, write=True) + read_scopes(t, write=True),
                )
            except AuthError:
                raise
            except AssocAuditError as err:
                status[members], message[members] = "failed", err.message
                continue
            done = {(str(r.from_object_id), str(r.to_object_id)) for r in reply.data.results or []}
            errors = list(getattr(reply.data, "errors", None) or [])
            for (fid, tid), ms in chunk:
                if (fid, tid) not in done:
                    status[ms] = "failed"
                    message[ms] = _item_message(errors, [fid, tid]) or (
                        "HubSpot did not create this association (no result for it)"
                    )

    def _remove(
        self,
        pair: Pair,
        frame: pd.DataFrame,
        rows: np.ndarray,
        type_ids: np.ndarray,
        categories: np.ndarray,
        status: np.ndarray,
        message: np.ndarray,
    ) -> None:
        from hubspot.crm.associations.v4 import (
            BatchInputPublicAssociationMultiArchive,
            BatchInputPublicAssociationMultiPost,
            PublicAssociationMultiArchive,
            PublicAssociationMultiPost,
            PublicObjectId,
        )

        f, t = self._c.api_object(pair[0]), self._c.api_object(pair[1])
        labelled = np.array([r for r in rows if frame["label"].iloc[r] is not pd.NA], dtype=int)
        unlabeled = np.array([r for r in rows if frame["label"].iloc[r] is pd.NA], dtype=int)
        scopes = read_scopes(f, write=True) + read_scopes(t, write=True)
        for chunk in _chunks(
            list(self._grouped(frame, labelled).items()), self._c.write_batch_size
        ):
            body = BatchInputPublicAssociationMultiPost(
                inputs=[
                    PublicAssociationMultiPost(
                        _from=PublicObjectId(id=fid),
                        to=PublicObjectId(id=tid),
                        types=self._specs(ms, type_ids, categories),
                    )
                    for (fid, tid), ms in chunk
                ]
            )
            self._archive(
                "assoc.batch_archive_labels",
                f"removing {f}→{t} association labels",
                self._apis.assoc_batch.archive_labels_with_http_info,
                (f, t, body),
                [m for _, ms in chunk for m in ms],
                scopes,
                status,
                message,
            )
        for chunk in _chunks(
            list(self._grouped(frame, unlabeled).items()), self._c.write_batch_size
        ):
            body = BatchInputPublicAssociationMultiArchive(
                inputs=[
                    PublicAssociationMultiArchive(
                        _from=PublicObjectId(id=fid), to=[PublicObjectId(id=tid)]
                    )
                    for (fid, tid), _ in chunk
                ]
            )
            self._archive(
                "assoc.batch_archive",
                f"removing {f}→{t} associations",
                self._apis.assoc_batch.archive_with_http_info,
                (f, t, body),
                [m for _, ms in chunk for m in ms],
                scopes,
                status,
                message,
            )

    def _archive(
        self,
        endpoint: str,
        what: str,
        fn: Any,
        args: tuple[Any, ...],
        members: list[int],
        scopes: Sequence[str],
        status: np.ndarray,
        message: np.ndarray,
    ) -> None:
        try:
            self._caller.call(endpoint, what, fn, *args, ok=(204,), scopes=scopes)
        except AuthError:
            raise
        except AssocAuditError as err:
            status[members], message[members] = "failed", err.message

    # -- records -------------------------------------------------------------------------

    def create_records(self, obj: str, records: pd.DataFrame) -> pd.DataFrame:
        """Create records (columns = property names); returns them with ``record_id``."""
        from hubspot.crm.objects import (
            BatchInputSimplePublicObjectBatchInputForCreate,
            SimplePublicObjectBatchInputForCreate,
        )

        api = self._c.api_object(obj)
        where = f"HubSpot {self._c.host} {api}"
        taken = [c for c in records.columns if str(c) in ("id", "record_id", "hs_object_id")]
        if taken:
            raise DataError(
                f"{where}: HubSpot assigns record ids; drop the column {taken[0]!r}",
                file=where,
                field=str(taken[0]),
            )
        text = records.astype(object).where(records.notna(), None)
        rows = [
            {str(k): (None if v is None else str(v)) for k, v in rec.items() if v is not None}
            for rec in text.to_dict("records")
        ]
        ids: list[str] = []
        for chunk in _chunks(rows, self._c.write_batch_size):
            body = BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(properties=p, associations=[])
                    for p in chunk
                ]
            )
            reply = self._caller.call(
                "objects.batch_create",
                f"creating {api} records",
                self._apis.objects_batch.create_with_http_info,
                api,
                body,
                ok=(201,),
                scopes=read_scopes(api, write=True),
            )
            ids += self._match_created(chunk, list(reply.data.results or []), where)
        out = records.copy()
        out["record_id"] = pd.Series(ids, index=records.index, dtype=TEXT)
        return out

    @staticmethod
    def _match_created(
        wanted: Sequence[dict[str, str]], results: list[Any], where: str
    ) -> list[str]:
        """Created ids in input order: HubSpot does not promise the order of results, so
        each input takes the first unused result whose properties hold its values
        (falling back to the result at its position)."""
        if len(results) != len(wanted):
            raise HubSpotAPIError(
                f"{where}: HubSpot created {len(results)} of {len(wanted)} records in one batch"
            )
        props = [{k: str(v) for k, v in (r.properties or {}).items()} for r in results]
        free = list(range(len(results)))
        out = []
        for position, want in enumerate(wanted):
            pick = next(
                (i for i in free if all(props[i].get(k) == v for k, v in want.items())),
                position if position in free else free[0],
            )
            free.remove(pick)
            out.append(str(results[pick].id))
        return out

    def delete_records(self, obj: str, ids: Collection[str]) -> WriteResult:
        """Archive records (HubSpot removes their links); ``already`` for ids not found."""
        from hubspot.crm.objects import (
            BatchInputSimplePublicObjectId,
            BatchReadInputSimplePublicObjectId,
            SimplePublicObjectId,
        )

        api = self._c.api_object(obj)
        wanted = [str(i) for i in ids]
        unique = list(dict.fromkeys(wanted))
        present: set[str] = set()
        for chunk in _chunks(unique, min(100, self._c.write_batch_size)):
            reply = self._caller.call(
                "objects.batch_read",
                f"reading {api} records",
                self._apis.objects_batch.read_with_http_info,
                api,
                BatchReadInputSimplePublicObjectId(
                    inputs=[SimplePublicObjectId(id=i) for i in chunk],
                    properties=["hs_object_id"],
                    properties_with_history=[],
                ),
                archived=False,
                ok=(200, 207),
                scopes=read_scopes(api),
            )
            present.update(str(r.id) for r in reply.data.results or [])
        existing = [i for i in unique if i in present]
        for chunk in _chunks(existing, min(100, self._c.write_batch_size)):
            self._caller.call(
                "objects.batch_archive",
                f"deleting {api} records",
                self._apis.objects_batch.archive_with_http_info,
                api,
                BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=i) for i in chunk]),
                ok=(204,),
                scopes=read_scopes(api, write=True),
            )
        seen: set[str] = set()
        status = []
        for i in wanted:
            status.append("ok" if i in present and i not in seen else "already")
            seen.add(i)
        keys = pd.DataFrame({"object": [obj] * len(wanted), "record_id": wanted})
        return WriteResult("delete_records", outcome_frame(keys, status, [None] * len(wanted)))
