"""Writing to a portal: association edges in batches with per-edge outcomes, and sample records.

Edges (DESIGN §4 shape, this side's label text) are put in their audited pair's
direction, their labels turned into association types through the pair's label
definitions (``Primary`` → the HubSpot-defined primary type, null → the
unlabeled type, other text → the label of that name; definitions are read
again once if a label is unknown), and compared with the links the portal
holds now (a v4 batch read of the from-records involved), so every row gets
``ok``, ``already`` or ``failed``. With ``check=False`` (a caller that has just
read those links, such as a fix plan's apply) that read is skipped and every
distinct edge is written (HubSpot's writes are idempotent):

- create: v4 ``batch/create``, one input per record pair with every type asked
  for it, at most ``write_batch_size`` inputs per request; a 207 marks the
  inputs missing from its results ``failed`` with HubSpot's message;
- remove: labels with ``batch/labels/archive`` (exactly the type given), the
  unlabeled link with ``batch/archive`` (which, in HubSpot, removes every label
  of the pair too — fix plans list that side effect as its own operation).

A request that fails as a whole (after the caller's retries) fails its rows
with the message; a refused token (401/403) stops the write with
:class:`~assoc_audit.errors.AuthError`. Edge writes are idempotent, so a retried
request (a dropped connection, or an answer with a broken body, after HubSpot
applied it) does no harm, and the outcome is what the portal holds.

Record creates are not idempotent (each request makes new records): an answer
with a broken body is therefore not retried but raised (the records may exist;
scenario runs sweep their tagged records). A dropped connection is still
retried, as before: it cannot tell "not sent" from "sent, unanswered".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from assoc_audit.connectors.app import AppLayout
from assoc_audit.connectors.base import WriteResult, outcome_frame
from assoc_audit.connectors.hubspot.api import ApiCaller, HubSpotApis
from assoc_audit.connectors.hubspot.fetch import read_scopes
from assoc_audit.connectors.writeplan import EdgeRequest, stored_edge_keys
from assoc_audit.errors import AssocAuditError, AuthError, DataError, HubSpotAPIError
from assoc_audit.tables import TEXT

if TYPE_CHECKING:
    from assoc_audit.connectors.hubspot.connector import HubSpotConnector

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

    def write_edges(self, edges: pd.DataFrame, *, create: bool, check: bool = True) -> WriteResult:
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
        if check:
            stored = self._stored(frame, todo & ~failed)
            write, status = request.decide(stored, create=create)
        else:  # the caller has just read these links: write every distinct edge
            write = request.writable.copy()
            status = np.where(write, "ok", "already").astype(object)
        write &= ~failed
        status = status.astype(object)
        status[failed] = "failed"
        for key in pd.unique(pairs[write]):
            first, second = str(key).split("\x1f", 1)
            pair = (first, second)
            rows = np.flatnonzero(write & (pairs == key).to_numpy())
            if not len(rows):
                continue
            apply = self._create if create else self._remove
            apply(pair, frame, rows, (type_ids, categories), (status, message))
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

    def _post_inputs(
        self,
        chunk: Sequence[tuple[tuple[str, str], list[int]]],
        type_ids: np.ndarray,
        categories: np.ndarray,
    ) -> Any:
        """``{from, to, types}`` inputs (batch create and labels archive): one per record pair."""
        from hubspot.crm.associations.v4 import (
            AssociationSpec,
            BatchInputPublicAssociationMultiPost,
            PublicAssociationMultiPost,
            PublicObjectId,
        )

        conf = self._assoc_conf
        return BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id=fid, local_vars_configuration=conf),
                    to=PublicObjectId(id=tid, local_vars_configuration=conf),
                    types=[
                        AssociationSpec(
                            association_category=categories[r],
                            association_type_id=int(type_ids[r]),
                            local_vars_configuration=conf,
                        )
                        for r in rows
                    ],
                    local_vars_configuration=conf,
                )
                for (fid, tid), rows in chunk
            ]
        )

    def _archive_inputs(self, chunk: Sequence[tuple[tuple[str, str], list[int]]]) -> Any:
        """``{from, to: [id]}`` inputs (batch archive): one per record pair."""
        from hubspot.crm.associations.v4 import (
            BatchInputPublicAssociationMultiArchive,
            PublicAssociationMultiArchive,
            PublicObjectId,
        )

        return BatchInputPublicAssociationMultiArchive(
            inputs=[
                PublicAssociationMultiArchive(
                    _from=PublicObjectId(id=fid), to=[PublicObjectId(id=tid)]
                )
                for (fid, tid), _ in chunk
            ]
        )

    def _send(
        self,
        pair: Pair,
        frame: pd.DataFrame,
        rows: np.ndarray,
        outcome: tuple[np.ndarray, np.ndarray],
        *,
        endpoint: str,
        what: str,
        fn: Any,
        body: Callable[[Sequence[tuple[tuple[str, str], list[int]]]], Any],
        ok: Collection[int],
    ) -> None:
        """Send ``rows`` (grouped per record pair) in batches; failures go to ``outcome``.

        A request that fails as a whole fails its rows; for a 201/207 create, record pairs
        missing from the results fail with the 207 error that names them.
        """
        status, message = outcome
        f, t = self._c.api_object(pair[0]), self._c.api_object(pair[1])
        scopes = read_scopes(f, write=True) + read_scopes(t, write=True)
        groups: dict[tuple[str, str], list[int]] = {}
        f_ids = frame["from_id"].astype(str).to_numpy()
        t_ids = frame["to_id"].astype(str).to_numpy()
        for r in rows:
            groups.setdefault((f_ids[r], t_ids[r]), []).append(int(r))
        for chunk in _chunks(list(groups.items()), self._c.write_batch_size):
            members = [m for _, ms in chunk for m in ms]
            try:
                reply = self._caller.call(
                    endpoint, f"{what} {f}→{t}", fn, f, t, body(chunk), ok=ok, scopes=scopes
                )
            except AuthError:
                raise
            except AssocAuditError as err:
                status[members], message[members] = "failed", err.message
                continue
            if reply.status == 204:
                continue
            done = {(str(r.from_object_id), str(r.to_object_id)) for r in reply.data.results or []}
            errors = list(getattr(reply.data, "errors", None) or [])
            for (fid, tid), ms in chunk:
                if (fid, tid) not in done:
                    status[ms] = "failed"
                    message[ms] = _item_message(errors, [fid, tid]) or (
                        "HubSpot did not create this association (no result for it)"
                    )

    def _create(
        self,
        pair: Pair,
        frame: pd.DataFrame,
        rows: np.ndarray,
        types: tuple[np.ndarray, np.ndarray],
        outcome: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self._send(
            pair,
            frame,
            rows,
            outcome,
            endpoint="assoc.batch_create",
            what="creating associations",
            fn=self._apis.assoc_batch.create_with_http_info,
            body=lambda chunk: self._post_inputs(chunk, *types),
            ok=(201, 207),
        )

    def _remove(
        self,
        pair: Pair,
        frame: pd.DataFrame,
        rows: np.ndarray,
        types: tuple[np.ndarray, np.ndarray],
        outcome: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Labels first (exactly their types), then unlabeled links (whole record pairs)."""
        null = frame["label"].isna().to_numpy()[rows]
        self._send(
            pair,
            frame,
            rows[~null],
            outcome,
            endpoint="assoc.batch_archive_labels",
            what="removing association labels",
            fn=self._apis.assoc_batch.archive_labels_with_http_info,
            body=lambda chunk: self._post_inputs(chunk, *types),
            ok=(204,),
        )
        self._send(
            pair,
            frame,
            rows[null],
            outcome,
            endpoint="assoc.batch_archive",
            what="removing associations",
            fn=self._apis.assoc_batch.archive_with_http_info,
            body=self._archive_inputs,
            ok=(204,),
        )

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
                idempotent=False,  # a 201 with a broken body created them: do not repeat
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
