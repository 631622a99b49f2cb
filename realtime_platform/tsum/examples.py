"""The patient table of the TSum paper's running example (10 rows: gender, age, blood pressure),
for tests, the benchmark and trying the engine by hand."""

from __future__ import annotations

PATIENT_COLUMNS = ("gender", "age", "blood_pressure")
PATIENT_ROWS = (
    ("M", "adult", "normal"),
    ("M", "adult", "low"),
    ("M", "adult", "normal"),
    ("M", "adult", "high"),
    ("M", "adult", "low"),
    ("F", "child", "low"),
    ("M", "child", "low"),
    ("F", "child", "low"),
    ("M", "teen", "high"),
    ("F", "child", "normal"),
)


def patients(rows: int = len(PATIENT_ROWS)):
    """The patient table tiled to `rows` rows, as a pandas DataFrame of str columns."""
    import numpy as np
    import pandas as pd

    reps = -(-rows // len(PATIENT_ROWS))
    data = {column: np.tile(np.array([r[i] for r in PATIENT_ROWS], dtype=object), reps)[:rows]
            for i, column in enumerate(PATIENT_COLUMNS)}
    return pd.DataFrame(data).astype("str")
