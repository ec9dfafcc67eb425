"""Side effects: from the operations a plan intends to the full list it must perform.

:func:`expand` adds every side effect of the intended operations as its own
operation (DESIGN §7), in each side's storage model (:class:`~.model.SideModel`):

HubSpot (``implied``: HubSpot does it by itself, the operation is not sent)
  - removing the unlabeled link removes every label on the pair;
  - creating a label creates the unlabeled link when the pair had none;
  - creating ``Primary`` moves it off the from-record's other pair.
Plain apps (``cause`` set, written explicitly)
  - removing the unlabeled link (any of its spellings) removes the pair's other rows;
  - creating the app's primary label removes it from the record's other pair;
  - a pair whose rows all go while its unlabeled link is meant to stay gets the
    unlabeled link written (labels imply it; without them it must be stored).

Contradictory operations (creating and removing the same link, or creating a
link on a pair whose unlabeled link is removed) and two primaries for one record
are a :class:`~assoc_audit.errors.PlanError`. :func:`finalise` orders the
operations and numbers them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from assoc_audit.errors import PlanError
from assoc_audit.fixes.model import (
    ACTIONS,
    SIDES,
    LabelSet,
    Operation,
    PairKey,
    label_key,
    pair_text,
)
from assoc_audit.fixes.states import States

__all__ = ["Draft", "after_states", "expand", "finalise"]


@dataclass(eq=False)
class Draft:
    """An operation being planned (no id yet; ``cause`` points at another draft)."""

    side: str
    action: str
    from_object: str
    from_id: str
    to_object: str
    to_id: str
    label: str | None
    old_label: str | None = None
    findings: set[str] = field(default_factory=set)
    cause: Draft | None = None
    implied: bool = False

    @property
    def pair(self) -> PairKey:
        return (self.side, self.from_object, self.from_id, self.to_object, self.to_id)

    @property
    def ident(self) -> tuple[PairKey, str, str | None, str | None]:
        return (self.pair, self.action, self.label, self.old_label)

    def creates(self) -> tuple[str | None, ...]:
        return () if self.action == "remove" else (self.label,)

    def removes(self) -> tuple[str | None, ...]:
        if self.action == "create":
            return ()
        return (self.old_label,) if self.action == "relabel" else (self.label,)


class _Book:
    """The drafts so far, indexed by identity and by pair."""

    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.by_ident: dict[tuple[PairKey, str, str | None, str | None], Draft] = {}
        self.by_pair: dict[PairKey, list[Draft]] = {}

    def add(self, draft: Draft) -> Draft:
        known = self.by_ident.get(draft.ident)
        if known is not None:
            known.findings |= draft.findings
            return known
        self.drafts.append(draft)
        self.by_ident[draft.ident] = draft
        self.by_pair.setdefault(draft.pair, []).append(draft)
        return draft

    def on(self, key: PairKey) -> list[Draft]:
        return self.by_pair.get(key, [])

    def creating(self, key: PairKey, label: str | None) -> bool:
        return any(label in d.creates() for d in self.on(key))

    def removing(self, key: PairKey, label: str | None) -> Draft | None:
        for d in self.on(key):
            if label in d.removes():
                return d
        return None


def _remove(book: _Book, key: PairKey, label: str | None, cause: Draft, implied: bool) -> None:
    """Make sure ``label`` is removed from pair ``key`` as a side effect of ``cause``."""
    existing = book.removing(key, label)
    if existing is None:
        side, fo, fid, to, tid = key
        book.add(Draft(side, "remove", fo, fid, to, tid, label, cause=cause, implied=implied))
    elif (
        implied
        and existing is not cause
        and existing.action == "remove"
        and not existing.implied
        and cause.cause is not existing
    ):
        existing.cause, existing.implied = cause, True


def expand(intended: Iterable[Draft], states: States, *, exact: bool = False) -> list[Draft]:
    """The intended drafts (duplicates merged) plus every side effect.

    ``exact=True`` (undo: the drafts take each pair to an exact label set)
    adds only what HubSpot does by itself; plain sides get nothing more.
    """
    book = _Book()
    for draft in intended:
        book.add(draft)
    models = states.models
    done = 0
    while done < len(book.drafts):
        d = book.drafts[done]
        done += 1
        model = models[d.side]
        pair = (d.from_object, d.to_object)
        key = d.pair
        before = states.labels(key)
        primary = model.primary.get(pair)
        if model.semantics == "hubspot":
            if d.action == "remove" and d.label is None:
                for label in sorted(before - {None}, key=label_key):
                    _remove(book, key, label, d, implied=True)
            for label in d.creates():
                if label is not None and None not in before and not book.creating(key, None):
                    side, fo, fid, to, tid = key
                    book.add(Draft(side, "create", fo, fid, to, tid, None, cause=d, implied=True))
        elif exact:
            continue
        elif d.action == "remove" and model.is_unlabeled(pair, d.label):
            for label in sorted(before - {d.label}, key=label_key):
                _remove(book, key, label, d, implied=False)
        if primary is not None and primary in d.creates():
            for other in sorted(states.partners(d.side, d.from_object, d.to_object, d.from_id)):
                okey: PairKey = (d.side, d.from_object, d.from_id, d.to_object, other)
                if other != d.to_id and primary in states.labels(okey):
                    _remove(book, okey, primary, d, implied=model.semantics == "hubspot")
        if done == len(book.drafts) and not exact:
            _keep_unlabeled(book, states)
    _check(book, states, exact=exact)
    return book.drafts


def _keep_unlabeled(book: _Book, states: States) -> None:
    """Plain sides: a pair emptied by label removals keeps its unlabeled link."""
    after = after_states(book.drafts, states)
    for key, labels in after.items():
        model = states.models[key[0]]
        if model.semantics != "plain" or labels:
            continue
        pair = (key[1], key[3])
        drafts = book.on(key)
        if not states.labels(key) or any(
            model.is_unlabeled(pair, x) for d in drafts for x in d.removes()
        ):
            continue
        cause = next(d for d in drafts if d.removes())
        side, fo, fid, to, tid = key
        text = model.unlabeled_text.get(pair)
        book.add(Draft(side, "create", fo, fid, to, tid, text, cause=cause))


def after_states(drafts: Iterable[Draft | Operation], states: States) -> dict[PairKey, LabelSet]:
    """Each touched pair's label set once every operation on it is done."""
    removed: dict[PairKey, set[str | None]] = {}
    created: dict[PairKey, set[str | None]] = {}
    for d in drafts:
        removed.setdefault(d.pair, set()).update(d.removes())
        created.setdefault(d.pair, set()).update(d.creates())
    out = {}
    for key, gone in removed.items():
        model = states.models[key[0]]
        labels = (states.labels(key) - gone) | created[key]
        if model.semantics == "hubspot" and None in gone and None not in created[key]:
            labels = frozenset(created[key])
        out[key] = model.normalise(labels)
    return out


def _check(book: _Book, states: States, *, exact: bool) -> None:
    problems: list[str] = []
    primaries: dict[tuple[str, str, str, str], PairKey] = {}
    for key, drafts in book.by_pair.items():
        model = states.models[key[0]]
        pair = (key[1], key[3])
        created = {x for d in drafts for x in d.creates()}
        removed = {x for d in drafts for x in d.removes()}
        both = created & removed
        if both:
            shown = ", ".join("the unlabeled link" if x is None else repr(x) for x in both)
            problems.append(f"{pair_text(key)}: creates and removes {shown}")
        elif (
            created
            and (model.semantics == "hubspot" or not exact)
            and any(model.is_unlabeled(pair, x) for x in removed)
        ):
            problems.append(f"{pair_text(key)}: removes the link and creates a label on it")
        primary = model.primary.get(pair)
        if primary is not None and primary in created:
            record = (key[0], key[1], key[3], key[2])
            other: PairKey = primaries.setdefault(record, key)
            if other != key:
                problems.append(
                    f"{key[0]} {key[1]} {key[2]}: two {primary!r} links planned "
                    f"(to {other[4]} and to {key[4]})"
                )
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise PlanError(
            "the findings ask for contradictory operations: " + "; ".join(problems[:3]) + more
        )


def finalise(drafts: Sequence[Draft], states: States) -> tuple[Operation, ...]:
    """Number the drafts in a stable order (side, objects, ids, action, labels)."""

    def order(d: Draft) -> tuple[object, ...]:
        return (
            SIDES.index(d.side),  # type: ignore[arg-type,unused-ignore]
            d.from_object,
            d.to_object,
            (len(d.from_id), d.from_id),
            (len(d.to_id), d.to_id),
            ACTIONS.index(d.action),  # type: ignore[arg-type,unused-ignore]
            label_key(d.old_label),
            label_key(d.label),
        )

    ordered = sorted(drafts, key=order)
    ids = {id(d): n for n, d in enumerate(ordered, start=1)}
    out = []
    for d in ordered:
        out.append(
            Operation.from_dict(
                {
                    "op_id": ids[id(d)],
                    "side": d.side,
                    "action": d.action,
                    "from_object": d.from_object,
                    "from_id": d.from_id,
                    "to_object": d.to_object,
                    "to_id": d.to_id,
                    "label": d.label,
                    "old_label": d.old_label,
                    "finding_ids": sorted(d.findings),
                    "cause": ids[id(d.cause)] if d.cause is not None else None,
                    "implied": d.implied,
                    "labels_before": sorted(states.labels(d.pair), key=label_key),
                }
            )
        )
    return tuple(out)
