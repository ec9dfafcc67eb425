"""write_side copies an unchanged snapshot it was read from; read_side reads needed columns."""

from __future__ import annotations

import dataclasses
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_support import world, world_config

from assoc_audit.errors import DataError
from assoc_audit.snapshot import read_side, write_side


@pytest.fixture
def snapshot(tmp_path):
    config = world_config()
    h, _ = world(config, [("c1", "k1"), ("c2", "k2")])
    write_side(tmp_path / "in", h)
    return config, tmp_path / "in"


def test_unchanged_source_is_copied(tmp_path, snapshot):
    config, folder = snapshot
    side = read_side(folder, side="hubspot", config=config)
    assert side.source is not None and side.source.folder == folder
    write_side(tmp_path / "out", side)
    for name in ("records.parquet", "associations.parquet"):
        assert (tmp_path / "out" / name).read_bytes() == (folder / name).read_bytes()
    again = read_side(tmp_path / "out", side="hubspot", config=config)
    pd.testing.assert_frame_equal(again.associations, side.associations)


def test_changed_source_is_rewritten_from_the_tables(tmp_path, snapshot):
    config, folder = snapshot
    side = read_side(folder, side="hubspot", config=config)
    table = pq.read_table(folder / "associations.parquet")
    pq.write_table(table.slice(0, 1), folder / "associations.parquet")
    os.utime(folder / "associations.parquet", ns=(1, 1))
    write_side(tmp_path / "out", side)
    again = read_side(tmp_path / "out", side="hubspot", config=config)
    assert len(again.associations) == 2


def test_derived_tables_are_written(tmp_path, snapshot):
    config, folder = snapshot
    side = read_side(folder, side="hubspot", config=config)
    fewer = dataclasses.replace(side, associations=side.associations.iloc[:1], source=None)
    write_side(tmp_path / "out", fewer)
    assert len(read_side(tmp_path / "out", side="hubspot", config=config).associations) == 1


def test_writing_onto_the_source_folder_is_a_no_op(snapshot):
    config, folder = snapshot
    side = read_side(folder, side="hubspot", config=config)
    write_side(folder, side)
    assert len(read_side(folder, side="hubspot", config=config).associations) == 2


def test_extra_columns_are_not_read_but_missing_ones_are_listed(tmp_path, snapshot):
    config, folder = snapshot
    records = pq.read_table(folder / "records.parquet")
    extra = records.append_column("notes", pa.array(["x"] * records.num_rows))
    pq.write_table(extra, folder / "records.parquet")
    side = read_side(folder, side="hubspot", config=config)
    assert "notes" not in side.records.columns
    pq.write_table(extra.drop_columns(["email"]), folder / "records.parquet")
    with pytest.raises(DataError, match=r"missing column 'email' \(columns present: .*notes"):
        read_side(folder, side="hubspot", config=config)
