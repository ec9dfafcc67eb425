"""Identifier normalisers (DESIGN §5), one implementation used everywhere.

Each normaliser works on a whole column (a pandas Series) and returns a column
of the same length whose empty results are null. The scalar form
:func:`normalize_value` applies the same rules to one value, for messages and
tests.

- ``email``: strip Unicode whitespace, lower-case with Python's rules.
- ``domain``: the same, then drop a scheme (``…://``), everything from the first
  ``/``, ``?`` or ``#``, a port, every leading ``www.`` and every trailing dot.
  The steps repeat until nothing changes, which makes the normaliser idempotent
  even for odd inputs such as ``"www. x"``.
- ``none``: unchanged (empty text is still null).

:func:`normalize_arrow` is the same normaliser over Arrow text, for whole key
columns: printable-ASCII values (``\x20``-``\x7e``, where stripping removes only
spaces and lower-casing only ``A``-``Z``) go through Arrow's vectorised kernels;
every other value goes through :func:`normalize` itself. Property tests compare
the two on arbitrary text (``tests/test_normalize.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:  # pandas and Arrow load with the first column normalised, not with the config
    import pandas as pd
    import pyarrow as pa

__all__ = ["NORMALIZERS", "Normalizer", "normalize", "normalize_arrow", "normalize_value"]

Normalizer = Literal["email", "domain", "none"]
NORMALIZERS: tuple[str, ...] = get_args(Normalizer)

_SCHEME = r"^[^/?#]*?://"
_PATH = r"[/?#].*$"
_PORT = r":.*$"
_LEADING_WWW = r"^(?:www\.)+"
_TRAILING_DOTS = r"\.+$"


def _as_text(values: pd.Series) -> pd.Series:
    """Text column with empty strings as null (non-text values become text)."""
    out = values.astype("object").where(values.notna(), None)
    out = out.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return out.where(out != "", None)


def _email(values: pd.Series) -> pd.Series:
    return values.str.strip().str.lower()


def _domain_step(values: pd.Series) -> pd.Series:
    s = values.str.strip().str.lower()
    s = s.str.replace(_SCHEME, "", regex=True)
    s = s.str.replace(_PATH, "", regex=True)
    s = s.str.replace(_PORT, "", regex=True)
    s = s.str.replace(_LEADING_WWW, "", regex=True)
    return s.str.replace(_TRAILING_DOTS, "", regex=True)


def _domain(values: pd.Series) -> pd.Series:
    current = values
    for _ in range(16):
        nxt = _domain_step(current)
        same = (nxt == current) | (nxt.isna() & current.isna())
        if bool(same.all()):
            return nxt
        current = nxt
    return current


def normalize(values: pd.Series, how: str = "none") -> pd.Series:
    """Normalise a whole column with the named rule (``email``, ``domain``, ``none``).

    Returns an ``object`` column of ``str`` or ``None``; the index is kept.
    """
    if how not in NORMALIZERS:
        raise ValueError(f"unknown normaliser {how!r} (allowed: {', '.join(NORMALIZERS)})")
    text = _as_text(values)
    if how == "email":
        text = _email(text)
    elif how == "domain":
        text = _domain(text)
    text = text.astype("object")
    return text.where(text.notna() & (text != ""), None)


#: Values made only of printable ASCII take the vectorised path (RE2 syntax).
_PRINTABLE = r"^[\x20-\x7e]*$"
#: A printable-ASCII value with none of these is left unchanged by one domain step.
_DOMAIN_CHANGES = r"[A-Z:/?#]|^ | $|^www\.|\.$"


def _domain_step_arrow(values: pa.Array) -> pa.Array:
    """:func:`_domain_step` for printable ASCII: only spaces to strip, only A-Z to lower."""
    import pyarrow.compute as pc

    s = pc.ascii_lower(pc.ascii_trim(values, " "))
    for pattern in (_SCHEME, _PATH, _PORT, _LEADING_WWW, _TRAILING_DOTS):
        s = pc.replace_substring_regex(s, pattern, "")
    return s


def _domain_arrow(values: pa.Array) -> pa.Array:
    """:func:`_domain` for printable ASCII: each value is stepped until nothing can change
    (at most 16 steps, as there), only the values that still can."""
    import pyarrow.compute as pc

    current = values
    todo = pc.fill_null(pc.match_substring_regex(current, _DOMAIN_CHANGES), False)
    for _ in range(16):
        if not pc.any(todo).as_py():
            break
        stepped = _domain_step_arrow(pc.filter(current, todo))
        current = pc.replace_with_mask(current, todo, stepped)
        todo = pc.replace_with_mask(todo, todo, pc.match_substring_regex(stepped, _DOMAIN_CHANGES))
    return current


def normalize_arrow(values: pa.Array | pa.ChunkedArray, how: str = "none") -> pa.Array:
    """:func:`normalize` over Arrow text: one ``large_string`` array, empty results null.

    Printable-ASCII values are normalised with Arrow kernels; the others (any other
    character, control characters included) with :func:`normalize`, so both give the
    same result for every value.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if how not in NORMALIZERS:
        raise ValueError(f"unknown normaliser {how!r} (allowed: {', '.join(NORMALIZERS)})")
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    array = array.cast(pa.large_string())
    if how == "none":
        out = array
    else:
        fast = pc.match_substring_regex(array, _PRINTABLE)
        if how == "email":
            out = pc.ascii_lower(pc.ascii_trim(array, " "))
        else:
            out = _domain_arrow(array)
        slow = pc.invert(pc.fill_null(fast, True))
        if pc.any(slow).as_py():
            import pandas as pd

            rest = pc.filter(array, slow).to_pylist()
            fixed = normalize(pd.Series(rest, dtype="object"), how).tolist()
            out = pc.replace_with_mask(out, slow, pa.array(fixed, pa.large_string()))
    empty = pc.equal(out, "")
    if pc.any(empty).as_py():
        out = pc.if_else(empty, pa.scalar(None, pa.large_string()), out)
    return out


def normalize_value(value: object, how: str = "none") -> str | None:
    """Normalise one value with the same rules as :func:`normalize`."""
    import pandas as pd

    result = normalize(pd.Series([value], dtype="object"), how).iloc[0]
    return None if result is None else str(result)
