from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assoc_audit.normalize import NORMALIZERS, normalize, normalize_value

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
