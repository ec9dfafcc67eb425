"""Reading records and association edges from a portal, concurrently, at the rate limit.

:class:`Fetcher` runs one read: the list pages of some objects and the v4
batch reads of some pairs. A list cursor forces one page after another per
object, so the parallelism is across objects and across batch reads: a small
thread pool runs whatever is ready, and one coordinating thread (the caller's)
decides what is ready:

- list pages, 100 records each, one chain per object (first priority: they are
  the critical path and feed the batch reads);
- v4 batch reads of a pair, from the pair's ``from`` object, as soon as a full
  batch of from-ids is listed (the batch limit, 1000 by default; learnt from
  HubSpot's error if it refuses that many), the last partial batch when the
  listing ends;
- follow-up reads for from-ids whose links did not fit one page (per-id
  ``paging.next.after``), batched the same way (second priority).

Every call goes through the shared :class:`~.hubspot_api.ApiCaller` (rate
limit, retries). A batch read answered with 207 is accepted only when every
error is HubSpot's "no associations" for an id (an id without links); any
other error fails the read, and every id sent must be answered one way or the
other. The first failure stops the read (running calls finish; the rest are
cancelled) and is raised.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from assoc_audit.connectors.hubspot.api import ApiCaller, HubSpotApis
from assoc_audit.connectors.progress import Progress
from assoc_audit.errors import HubSpotAPIError
from assoc_audit.tables import TEXT

__all__ = ["FetchResult", "Fetcher", "ObjectSpec", "PairSpec", "max_from_message", "read_scopes"]

Pair = tuple[str, str]
NO_ASSOCIATIONS = "NO_ASSOCIATIONS_FOUND"
_PAGE, _FOLLOW, _READ = 0, 1, 2  # task priorities (lower runs first)


def read_scopes(api_name: str, *, write: bool = False) -> tuple[str, ...]:
    """The private-app scope a call on ``api_name`` records needs (for 403 messages)."""
    from assoc_audit.connectors.hubspot.schema import standard_object

    kind = standard_object(api_name)
    verb = "write" if write else "read"
    if kind == "tickets":
        return ("tickets",)
    if kind is None:
        return (f"crm.objects.custom.{verb}",)
    return (f"crm.objects.{kind}.{verb}",)


@dataclass(frozen=True)
class ObjectSpec:
    """One object to list: its API name, the properties to ask for."""

    obj: str
    api: str
    properties: tuple[str, ...]


@dataclass(frozen=True)
class PairSpec:
    """One pair to read links of (in its from→to direction), from listed or given ids."""

    pair: Pair
    api: Pair
    from_ids: tuple[str, ...] | None = None


@dataclass
class FetchResult:
    """Raw pages: per object ``record_id``, properties, ``updated_ms``; per pair typed links."""

    records: dict[str, pd.DataFrame] = field(default_factory=dict)
    links: dict[Pair, pd.DataFrame] = field(default_factory=dict)
    seen_types: dict[Pair, dict[int, tuple[str | None, str | None]]] = field(default_factory=dict)


@dataclass
class _Page:
    frame: pd.DataFrame
    ids: list[str]
    after: str | None


@dataclass
class _Links:
    frame: pd.DataFrame
    follow: list[tuple[str, str]]
    seen: dict[int, tuple[str | None, str | None]]
    ids: int


@dataclass
class _PairState:
    spec: PairSpec
    pending: list[str] = field(default_factory=list)
    follow: list[tuple[str, str]] = field(default_factory=list)
    outstanding: int = 0
    from_done: bool = False
    parts: list[tuple[int, pd.DataFrame]] = field(default_factory=list)
    seen: dict[int, tuple[str | None, str | None]] = field(default_factory=dict)


def _epoch_ms(value: Any) -> float:
    try:
        return float(round(value.timestamp() * 1000))
    except (AttributeError, TypeError, ValueError, OverflowError):
        return float("nan")


_MAX_IN_MESSAGE = re.compile(r"(?:maximum|max|limit|at most)\D{0,30}?(\d+)", re.IGNORECASE)


def max_from_message(message: str, sent: int) -> int | None:
    """The batch size an error message names as the maximum, if smaller than ``sent``."""
    found = [int(m) for m in _MAX_IN_MESSAGE.findall(message)]
    smaller = [n for n in found if 0 < n < sent]
    return min(smaller) if smaller else None


class Fetcher:
    """Runs list pages and batch reads on a thread pool under the shared limiter."""

    def __init__(
        self,
        apis: HubSpotApis,
        caller: ApiCaller,
        *,
        workers: int = 6,
        page_size: int = 100,
        batch_read_size: int = 1000,
        progress: Progress | None = None,
    ) -> None:
        self._apis = apis
        self._caller = caller
        self.workers = max(1, workers)
        self.page_size = page_size
        self.batch_read_size = batch_read_size
        self._progress = progress or Progress(False)

    # -- the calls (worker threads) ---------------------------------------------------

    def list_page(self, spec: ObjectSpec, after: str | None) -> _Page:
        """One page of ``spec``'s records."""
        kwargs: dict[str, Any] = {"limit": self.page_size, "archived": False}
        if spec.properties:
            kwargs["properties"] = list(spec.properties)
        if after is not None:
            kwargs["after"] = after
        try:
            reply = self._caller.call(
                "objects.list",
                f"listing {spec.api}",
                self._apis.objects_basic.get_page_with_http_info,
                spec.api,
                scopes=read_scopes(spec.api),
                **kwargs,
            )
        except HubSpotAPIError as err:
            smaller = max_from_message(err.message, self.page_size) if err.status == 400 else None
            if smaller is None:
                raise
            self.page_size = smaller
            return self.list_page(spec, after)
        results = list(reply.data.results or [])
        ids = [None if r.id is None else str(r.id) for r in results]
        props = [r.properties or {} for r in results]
        columns: dict[str, Any] = {"record_id": pd.Series(ids, dtype=TEXT)}
        for name in spec.properties:
            columns[name] = pd.Series([p.get(name) for p in props], dtype=object)
        columns["updated_ms"] = np.array([_epoch_ms(r.updated_at) for r in results], dtype=float)
        paging = reply.data.paging
        nxt = getattr(getattr(paging, "next", None), "after", None) if paging else None
        return _Page(pd.DataFrame(columns), [i for i in ids if i is not None], nxt)

    def read_links(self, spec: PairSpec, inputs: Sequence[tuple[str, str | None]]) -> _Links:
        """One v4 batch read (split when HubSpot names a smaller batch limit)."""
        from hubspot.crm.associations.v4 import (
            BatchInputPublicFetchAssociationsBatchRequest,
            PublicFetchAssociationsBatchRequest,
        )

        body = BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=i, after=a) for i, a in inputs]
        )
        what = f"reading {spec.api[0]}→{spec.api[1]} associations"
        try:
            reply = self._caller.call(
                "assoc.batch_read",
                what,
                self._apis.assoc_batch.get_page_with_http_info,
                spec.api[0],
                spec.api[1],
                body,
                ok=(200, 207),
                scopes=read_scopes(spec.api[0]) + read_scopes(spec.api[1]),
            )
        except HubSpotAPIError as err:
            smaller = max_from_message(err.message, len(inputs)) if err.status == 400 else None
            if smaller is None:
                raise
            self.batch_read_size = min(self.batch_read_size, smaller)
            parts = [
                self.read_links(spec, inputs[i : i + smaller])
                for i in range(0, len(inputs), smaller)
            ]
            return _Links(
                pd.concat([p.frame for p in parts], ignore_index=True),
                [f for p in parts for f in p.follow],
                {k: v for p in parts for k, v in p.seen.items()},
                len(inputs),
            )
        return self._parse_links(reply.data, inputs, what)

    @staticmethod
    def _parse_links(data: Any, inputs: Sequence[tuple[str, str | None]], what: str) -> _Links:
        froms: list[str] = []
        tos: list[Any] = []
        types: list[int] = []
        seen: dict[int, tuple[str | None, str | None]] = {}
        follow: list[tuple[str, str]] = []
        answered: set[str] = set()
        for res in data.results or []:
            fid = str(res._from.id) if res._from is not None and res._from.id is not None else None
            if fid is None:
                raise HubSpotAPIError(f"HubSpot answered a result without a from id while {what}")
            answered.add(fid)
            for to in res.to or []:
                for t in to.association_types or []:
                    froms.append(fid)
                    tos.append(to.to_object_id)
                    type_id = int(t.type_id)
                    types.append(type_id)
                    if type_id not in seen:
                        seen[type_id] = (t.category, t.label)
            nxt = getattr(getattr(res.paging, "next", None), "after", None) if res.paging else None
            if nxt:
                follow.append((fid, str(nxt)))
        unnamed = False
        problems = []
        for err in getattr(data, "errors", None) or []:
            sub = str(getattr(err, "sub_category", None) or "")
            context = getattr(err, "context", None) or {}
            if sub.endswith(NO_ASSOCIATIONS):
                ids = context.get("fromObjectId") or context.get("ids") or []
                answered.update(str(i) for i in ids)
                unnamed = unnamed or not ids
            else:
                problems.append(f"{err.category}: {err.message}")
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise HubSpotAPIError(
                f"HubSpot reported errors while {what}: {problems[0]}{more}", status=207
            )
        missing = [i for i, _ in inputs if i not in answered]
        if missing and not unnamed:
            raise HubSpotAPIError(
                f"HubSpot did not answer for {len(missing)} of {len(inputs)} ids while {what} "
                f"(first: {missing[0]})",
                status=int((getattr(data, "num_errors", 0) and 207) or 200),
            )
        frame = pd.DataFrame(
            {
                "from_id": pd.Series(froms, dtype=TEXT),
                "to_id": pd.Series([None if t is None else str(t) for t in tos], dtype=TEXT),
                "type_id": np.array(types, dtype=np.int64),
            }
        )
        return _Links(frame, follow, seen, len(inputs))

    # -- the coordinator (caller's thread) ---------------------------------------------

    # long function: the scheduler loop and its two closures share the queues and pair states of
    # one read; split apart they would need an object of their own
    def run(self, objects: Sequence[ObjectSpec], pairs: Sequence[PairSpec]) -> FetchResult:
        """List ``objects`` and read ``pairs``; raises the first failure."""
        result = FetchResult()
        cursors: dict[str, set[str]] = {}
        pages: dict[str, list[pd.DataFrame]] = {o.obj: [] for o in objects}
        states = {p.pair: _PairState(p) for p in pairs}
        by_from: dict[str, list[_PairState]] = {}
        for st in states.values():
            if st.spec.from_ids is None:
                by_from.setdefault(st.spec.pair[0], []).append(st)
        missing = [o for o in by_from if o not in pages]
        if missing:
            raise ValueError(f"pairs need the ids of unlisted objects: {missing}")
        ready: list[tuple[int, int, tuple[Any, ...]]] = []
        seq = itertools.count()
        rec_bar = self._progress.bar("HubSpot records", "rec")
        link_bar = self._progress.bar("HubSpot links", "id")
        specs = {o.obj: o for o in objects}

        def push(priority: int, task: tuple[Any, ...]) -> None:
            heapq.heappush(ready, (priority, next(seq), task))

        def enqueue_reads(st: _PairState, *, flush: bool) -> None:
            size = max(1, self.batch_read_size)
            while len(st.pending) >= size or (flush and st.pending):
                chunk, st.pending = st.pending[:size], st.pending[size:]
                st.outstanding += 1
                link_bar.grow(link_bar.count + len(chunk))
                push(_READ, ("links", st, [(i, None) for i in chunk], next(seq)))
            while len(st.follow) >= size or (
                st.follow and st.from_done and st.outstanding == 0 and not st.pending
            ):
                batch, st.follow = st.follow[:size], st.follow[size:]
                st.outstanding += 1
                push(_FOLLOW, ("links", st, list(batch), next(seq)))

        for o in objects:
            push(_PAGE, ("page", o, None))
        for st in states.values():
            if st.spec.from_ids is not None:
                st.pending = list(dict.fromkeys(st.spec.from_ids))
                st.from_done = True
                enqueue_reads(st, flush=True)

        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="hubspot-read")
        inflight: dict[Future[Any], tuple[Any, ...]] = {}
        try:
            while ready or inflight:
                while ready and len(inflight) < self.workers:
                    _, _, task = heapq.heappop(ready)
                    fut: Future[Any]
                    if task[0] == "page":
                        fut = pool.submit(self.list_page, task[1], task[2])
                    else:
                        fut = pool.submit(self.read_links, task[1].spec, task[2])
                    inflight[fut] = task
                done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                for fut in done:
                    task = inflight.pop(fut)
                    if task[0] == "page":
                        page: _Page = fut.result()
                        self._on_page(task[1], page, pages, cursors, by_from, push, enqueue_reads)
                        rec_bar.update(len(pages[task[1].obj][-1]))
                    else:
                        st, order = task[1], task[3]
                        links: _Links = fut.result()
                        st.outstanding -= 1
                        st.parts.append((order, links.frame))
                        st.seen.update(links.seen)
                        st.follow.extend(links.follow)
                        if not any(a for _, a in task[2]):
                            link_bar.update(links.ids)
                        enqueue_reads(st, flush=False)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            rec_bar.close()
            link_bar.close()
        pool.shutdown(wait=True)
        for obj, parts in pages.items():
            result.records[obj] = (
                pd.concat(parts, ignore_index=True) if parts else self._empty_page(specs[obj])
            )
        for pair, st in states.items():
            frames = [f for _, f in sorted(st.parts, key=lambda p: p[0])]
            result.links[pair] = (
                pd.concat(frames, ignore_index=True) if frames else self._empty_links()
            )
            result.seen_types[pair] = st.seen
        return result

    def _on_page(
        self,
        spec: ObjectSpec,
        page: _Page,
        pages: dict[str, list[pd.DataFrame]],
        cursors: dict[str, set[str]],
        by_from: dict[str, list[_PairState]],
        push: Any,
        enqueue_reads: Any,
    ) -> None:
        pages[spec.obj].append(page.frame)
        last = page.after is None or not page.ids
        if page.after is not None and not last:
            seen = cursors.setdefault(spec.obj, set())
            if page.after in seen:
                raise HubSpotAPIError(
                    f"HubSpot returned the paging cursor {page.after!r} twice while listing "
                    f"{spec.api}; stopping rather than reading records twice"
                )
            seen.add(page.after)
        for st in by_from.get(spec.obj, []):
            st.pending.extend(page.ids)
            st.from_done = last
            enqueue_reads(st, flush=last)
        if not last:
            push(_PAGE, ("page", spec, page.after))

    @staticmethod
    def _empty_page(spec: ObjectSpec) -> pd.DataFrame:
        cols: dict[str, Any] = {"record_id": pd.Series([], dtype=TEXT)}
        cols.update({p: pd.Series([], dtype=object) for p in spec.properties})
        cols["updated_ms"] = np.array([], dtype=float)
        return pd.DataFrame(cols)

    @staticmethod
    def _empty_links() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "from_id": pd.Series([], dtype=TEXT),
                "to_id": pd.Series([], dtype=TEXT),
                "type_id": np.array([], dtype=np.int64),
            }
        )
