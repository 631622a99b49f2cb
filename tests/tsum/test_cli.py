"""Command line: CSV and Parquet in, JSON or a table out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from realtime_platform.tsum import io as tsum_io
from realtime_platform.tsum import summarize
from realtime_platform.tsum.__main__ import main
from tests.tsum.test_engine import patient_data

REPO = Path(__file__).resolve().parents[2]


def _expected(df: pd.DataFrame, **kwargs) -> list[dict]:
    return [p.to_dict() for p in summarize(df, **kwargs)]


def test_csv_json_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    patient_data(3).to_csv(path, index=False)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-m", "realtime_platform.tsum", str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    ).stdout
    data = json.loads(out)
    assert data["patterns"] == _expected(pd.read_csv(path))
    assert data["total_rows"] == 30 and data["cost_model"] == "reference"


def test_parquet_table_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "patients.parquet"
    patient_data(1).to_parquet(path)
    assert main([str(path), "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "gender='M'" in out and "age='adult'" in out
    assert out.splitlines()[0].split() == ["#", "saving", "coverage", "%", "pattern"]
    assert "uncovered: 20.00% (2 rows)" in out


def test_parquet_through_dask_with_columns_and_paper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "patients.parquet"
    df = patient_data(50)
    df.to_parquet(path)
    monkeypatch.setattr(tsum_io, "DASK_PARQUET_BYTES", 0)  # any file counts as big
    assert main([str(path), "--columns", "gender,age", "--cost-model", "paper"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cost_model"] == "paper"
    assert data["patterns"] == _expected(df, columns=["gender", "age"], cost_model="paper")


def test_numeric_values_are_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nums.parquet"
    pd.DataFrame({"i": pd.array([1, 1, 1, None], dtype="Int64"), "f": [0.5, 0.5, 0.5, 1.0]}).to_parquet(path)
    assert main([str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["patterns"][0]["pattern"] == {"i": 1, "f": 0.5}


def test_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.txt"
    path.write_text("a\n1\n")
    assert main([str(path)]) == 2
    assert "expected a .csv or .parquet" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.csv")]) == 2
