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


EXPECTED = [
    "AssocAuditError",
    "AuditResult",
    "AuditSummary",
    "AuthError",
    "ConfigError",
    "ConfigProblem",
    "ConnectorError",
    "DataError",
    "DigestMismatch",
    "EmptyReadError",
    "HubSpotAPIError",
    "IntegrationConfig",
    "NotebookError",
    "PlanConflict",
    "PlanError",
    "RateLimited",
    "SandboxError",
    "SideTables",
    "SnapshotError",
    "TargetLocked",
    "__version__",
    "load_config",
    "normalize",
    "run_audit",
]


def test_all_is_exactly_the_public_api():
    assert assoc_audit.__all__ == EXPECTED


def test_the_whole_error_tree_is_exported():
    from assoc_audit import errors

    assert set(errors.__all__) <= set(assoc_audit.__all__)
    for name in errors.__all__:
        assert getattr(assoc_audit, name) is getattr(errors, name)
    # every error class of the package is in the tree the docstring draws
    for name in errors.__all__:
        if name != "ConfigProblem":
            assert name in errors.__doc__, name
    assert issubclass(assoc_audit.TargetLocked, assoc_audit.PlanError)
    assert issubclass(assoc_audit.EmptyReadError, assoc_audit.DataError)
    assert not issubclass(assoc_audit.SandboxError, assoc_audit.AssocAuditError)  # stands alone
