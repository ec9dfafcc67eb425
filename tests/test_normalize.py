from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assoc_audit.normalize import NORMALIZERS, normalize, normalize_arrow, normalize_value

texts = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet=st.sampled_from(list("wW.:/?#@ \t\u00a0\u2003aAbİß1-_")), max_size=30),
    st.builds(lambda a, b: f"{a}://{b}", st.text(max_size=6), st.text(max_size=20)),
)


@given(values=st.lists(texts, max_size=20), how=st.sampled_from(NORMALIZERS))
def test_normalisers_are_idempotent(values, how):
    once = normalize(pd.Series(values, dtype="object"), how)
    twice = normalize(once, how)
    assert once.tolist() == twice.tolist()


@given(values=st.lists(texts, max_size=20), how=st.sampled_from(NORMALIZERS))
def test_empty_results_are_null_and_length_kept(values, how):
    out = normalize(pd.Series(values, dtype="object"), how)
    assert len(out) == len(values)
    assert "" not in out.tolist()


@given(
    host=st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,8}){1,3}", fullmatch=True),
    scheme=st.sampled_from(["", "http://", "HTTPS://"]),
    www=st.sampled_from(["", "www.", "WWW.", "www.www."]),
    port=st.sampled_from(["", ":443", ":8080"]),
    tail=st.sampled_from(["", "/", "/path", "?q=1", "#frag", "/a/b?c#d"]),
    dots=st.sampled_from(["", ".", ".."]),
)
def test_domain_variants_reduce_to_host(host, scheme, www, port, tail, dots):
    if host.startswith("www."):
        return
    value = f"  {scheme}{www}{host.upper()}{dots}{port}{tail} "
    assert normalize_value(value, "domain") == host


@pytest.mark.parametrize(
    ("value", "how", "expected"),
    [
        ("https://WWW.Acme.io/path", "domain", "acme.io"),
        ("acme.io.", "domain", "acme.io"),
        ("www.www.acme.io", "domain", "acme.io"),
        ("acme.io:8443", "domain", "acme.io"),
        ("\u2003Jane.Doe@Example.COM\t", "email", "jane.doe@example.com"),
        ("   ", "email", None),
        ("", "none", None),
        ("007", "none", "007"),
        ("www.", "domain", None),
        (None, "email", None),
    ],
)
def test_examples(value, how, expected):
    assert normalize_value(value, how) == expected


def test_unknown_normaliser():
    with pytest.raises(ValueError, match="allowed: email, domain, none"):
        normalize(pd.Series(["a"]), "upper")


# -- the vectorised path (normalize_arrow) equals the reference on any text ---------------

PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=24)
URL_PIECES = st.sampled_from(
    ["www.", "WWW.", "http://", "HTTPS://", "://", ":443", "/", "?q=1", "#f", ".", "..", " ", "  "]
)
URLISH = st.lists(
    URL_PIECES | st.sampled_from(["x", "Acme", "a.io", "-"]) | PRINTABLE.map(lambda t: t[:3]),
    max_size=8,
).map("".join)
ANY_TEXT = st.one_of(
    st.none(),
    PRINTABLE,
    URLISH,
    texts,
    st.lists(PRINTABLE | texts, max_size=3).map(lambda parts: "".join(p or "" for p in parts)),
)


@settings(max_examples=400, deadline=None)
@given(values=st.lists(ANY_TEXT, max_size=30), how=st.sampled_from(NORMALIZERS))
@example(values=["www. x", "x .", "a.", "x /", " www.x", "HTTP://A.io:1/", "\x1cA"], how="domain")
@example(values=[" A@B.io", "a@b.io\t", "Ä@b.io", "", None], how="email")
def test_arrow_normaliser_equals_the_reference(values, how):
    fast = normalize_arrow(pa.array(values, pa.large_string()), how)
    assert fast.type == pa.large_string()
    assert fast.to_pylist() == normalize(pd.Series(values, dtype="object"), how).tolist()


def test_arrow_normaliser_takes_the_same_sixteen_steps():
    # every step removes one "www. " only; the reference stops after 16 steps
    values = ["www. " * n + "x" for n in (1, 15, 16, 17, 30)] + ["é www. x", "A\nB/c"]
    for how in ("domain", "email"):
        fast = normalize_arrow(pa.chunked_array([pa.array(values)]), how).to_pylist()
        assert fast == normalize(pd.Series(values, dtype="object"), how).tolist()


def test_arrow_normaliser_unknown():
    with pytest.raises(ValueError, match="allowed: email, domain, none"):
        normalize_arrow(pa.array(["a"]), "upper")
