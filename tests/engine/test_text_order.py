"""records.csv's id order on integer keys (outputs.text_order) equals sorting the texts by
(length, code point), nulls first, for any mix of digit-only and other ids."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assoc_audit.outputs import text_order

DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=18)
NEAR_DIGITS = st.builds(
    lambda a, c, b: a + c + b,
    st.text(alphabet="0123456789", max_size=8),
    st.sampled_from([";", "/", ".", "-", " ", "a", "é", "😀", ":", "\x00"]),
    st.text(alphabet="0123456789;", max_size=8),
)
IDS = st.none() | DIGITS | NEAR_DIGITS | st.text(max_size=6)


def _expected(values):
    return sorted(
        range(len(values)),
        key=lambda i: (-1, "") if values[i] is None else (len(values[i]), values[i]),
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(IDS, max_size=40))
@example(["10", "9", "9;1", "09", "1;", "1/", "", None, "0" * 16, "1" * 15, "99;", "é"])
def test_text_order_is_length_then_code_point(values):
    order, same = text_order(pa.array(values, pa.large_string()))
    got = [values[i] for i in order]
    want = [values[i] for i in _expected(values)]
    assert got == want
    assert sorted(order.tolist()) == list(range(len(values)))
    assert same.tolist() == [k > 0 and got[k] == got[k - 1] for k in range(len(got))]
