"""Writing the output folder: rows in order, snapshots linked not rewritten, the time taken."""

from __future__ import annotations

import csv
import errno
import json
import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from engine_support import config_from_snapshots, world, world_config

from assoc_audit.audit import run_audit
from assoc_audit.errors import SnapshotError
from assoc_audit.outputs import write_csv, write_outputs


def test_large_csv_keeps_its_row_order(tmp_path):
    # several DuckDB row groups, formula-like cells (the CASE that neutralises them)
    n = 300_000
    ids = np.arange(n)
    df = pd.DataFrame(
        {
            "id": pd.array(
                [f"{'-' if i % 7 == 0 else ''}{i}" for i in ids], dtype="string[pyarrow]"
            ),
            "n": ids,
        }
    )
    write_csv(df, tmp_path / "big.csv")
    with (tmp_path / "big.csv").open(newline="", encoding="utf-8") as fh:
        got = [int(row[1]) for row in list(csv.reader(fh))[1:]]
    assert got == ids.tolist()


def _from_snapshots(tmp_path):
    config = world_config()
    h, a = world(config, [("c1", "k1"), ("c2", "k2")], [("p1", "o1")])
    first = run_audit(config, hubspot=h, app=a, out=tmp_path / "first")
    snap = tmp_path / "first" / "snapshot"
    return config_from_snapshots(first, snap), snap


def test_unchanged_snapshot_inputs_are_hard_linked(tmp_path):
    config, snap = _from_snapshots(tmp_path)
    result = run_audit(config, out=tmp_path / "second")
    out = tmp_path / "second"
    for side in ("hubspot", "app"):
        for name in ("records.parquet", "associations.parquet"):
            assert os.path.samefile(out / "snapshot" / side / name, snap / side / name)
        assert (out / "snapshot" / side / "meta.json").exists()
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["snapshot"] == {
        side: f"hard-linked from {snap / side}" for side in ("hubspot", "app")
    }
    assert summary == json.loads(json.dumps(result.summary.to_dict()))


def test_a_snapshot_file_replaced_after_reading_is_written_not_linked(tmp_path):
    # same size and modification time, another file: the link would carry what was not read
    config, snap = _from_snapshots(tmp_path)
    result = run_audit(config)
    path = snap / "hubspot" / "records.parquet"
    st = path.stat()
    other = path.with_name("other.parquet")
    other.write_bytes(path.read_bytes())
    os.utime(other, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(other, path)
    out = tmp_path / "second"
    write_outputs(result, out)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["snapshot"] == {
        "hubspot": "written",
        "app": f"hard-linked from {snap / 'app'}",
    }
    assert not os.path.samefile(out / "snapshot" / "hubspot" / "records.parquet", path)


def _rewrite(path, *, in_place):
    """Rewrite a Parquet file with its last row dropped: in place (same inode, as
    ``pq.write_table(path)`` does) or as a new file renamed over it."""
    table = pq.read_table(path)
    table = table.slice(0, table.num_rows - 1)
    if in_place:
        pq.write_table(table, path)
    else:
        pq.write_table(table, path.with_name("new.parquet"))
        os.replace(path.with_name("new.parquet"), path)


def test_a_linked_snapshot_whose_source_is_rewritten_in_place_is_refused(tmp_path):
    config, snap = _from_snapshots(tmp_path)
    run_audit(config, out=tmp_path / "second")
    report = tmp_path / "second" / "snapshot" / "hubspot" / "associations.parquet"
    _rewrite(snap / "hubspot" / "associations.parquet", in_place=True)
    with pytest.raises(SnapshotError, match="rewritten in place") as err:
        run_audit(config, baseline=tmp_path / "second")
    assert err.value.file == str(report)
    again = config.model_copy(
        update={"hubspot": config.hubspot.model_copy(update={"snapshot": report.parent})}
    )
    with pytest.raises(SnapshotError, match="hard link to"):
        run_audit(again)


def test_a_linked_snapshot_keeps_its_content_when_its_source_is_replaced(tmp_path):
    config, snap = _from_snapshots(tmp_path)
    run_audit(config, out=tmp_path / "second")
    report = tmp_path / "second" / "snapshot" / "hubspot" / "associations.parquet"
    before = report.read_bytes()
    _rewrite(snap / "hubspot" / "associations.parquet", in_place=False)
    assert report.read_bytes() == before
    run_audit(config, baseline=tmp_path / "second")  # accepted: it still holds its run's data


def test_snapshots_are_copied_where_links_are_refused(tmp_path, monkeypatch):
    config, snap = _from_snapshots(tmp_path)

    def refuse(src, dst, **kw):
        raise OSError(errno.EXDEV, "cross-device link")

    monkeypatch.setattr(os, "link", refuse)
    run_audit(config, out=tmp_path / "second")
    out = tmp_path / "second"
    for side in ("hubspot", "app"):
        for name in ("records.parquet", "associations.parquet"):
            copy, source = out / "snapshot" / side / name, snap / side / name
            assert not os.path.samefile(copy, source)
            assert copy.read_bytes() == source.read_bytes()
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["snapshot"]["hubspot"] == f"copied from {snap / 'hubspot'}"


def test_tables_not_read_from_a_snapshot_are_written_and_writing_is_timed(tmp_path):
    config = world_config()
    h, a = world(config, [("c1", "k1")], [("p1", "o1")])
    result = run_audit(config, hubspot=h, app=a, out=tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))
    assert summary["snapshot"] == {"hubspot": "written", "app": "written"}
    timings = summary["timings"]
    assert timings["write"] > 0
    stages = sum(timings[k] for k in ("match", "reconcile", "render", "write"))
    assert timings["total_seconds"] >= stages
    assert result.summary.timings == timings


def test_writing_a_result_later_adds_its_time_to_summary_json(tmp_path):
    config = world_config()
    h, a = world(config, [("c1", "k1")], [("p1", "o1")])
    result = run_audit(config, hubspot=h, app=a)
    assert "write" not in result.summary.timings
    result.write(tmp_path / "out")
    timings = json.loads((tmp_path / "out" / "summary.json").read_text("utf-8"))["timings"]
    assert timings["write"] > 0
    assert timings["total_seconds"] == pytest.approx(
        result.summary.timings["total_seconds"] + timings["write"]
    )
