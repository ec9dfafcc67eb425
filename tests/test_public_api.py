import assoc_audit


def test_all_is_sorted_and_exported():
    names = assoc_audit.__all__
    assert names == sorted(
        names, key=lambda n: (not n[0].isupper(), n.startswith("_"), n.lower())
    ) or names == sorted(names)
    for name in names:
        assert hasattr(assoc_audit, name), name


def test_no_private_leaks():
    public = {n for n in dir(assoc_audit) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(assoc_audit, n)).__name__ == "module"}
    assert public - modules <= set(assoc_audit.__all__)
