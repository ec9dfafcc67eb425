"""The Arrow fast path of key normalisation equals the one normaliser on any text."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from assoc_audit.normalize import normalize, normalize_arrow

PIECES = st.sampled_from(
    [
        "www.",
        "WWW.",
        "http://",
        ":8080",
        "/path",
        "?q",
        "#f",
        ".",
        " ",
        "\t",
        "\x1c",
        "\u00a0",
        "A",
        "a",
        "İ",
        "ß",
        "Ω",
        "@",
        "x.com",
        "",
        "\n",
    ]
)
TEXT = st.lists(st.text(max_size=6) | PIECES, max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | TEXT, max_size=30), st.sampled_from(["email", "domain", "none"]))
def test_fast_path_equals_normalize(values, how):
    arrow = pa.chunked_array([pa.array(values, pa.large_string())])
    fast = normalize_arrow(arrow, how).to_pylist()
    slow = normalize(pd.Series(values, dtype=object), how).tolist()
    assert fast == slow
