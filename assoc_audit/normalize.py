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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:  # pandas loads with the first column normalised, not with the config
    import pandas as pd

__all__ = ["NORMALIZERS", "Normalizer", "normalize", "normalize_value"]

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


def normalize_value(value: object, how: str = "none") -> str | None:
    """Normalise one value with the same rules as :func:`normalize`."""
    import pandas as pd

    result = normalize(pd.Series([value], dtype="object"), how).iloc[0]
    return None if result is None else str(result)
