"""Run the reference `tsum.summarize` for the tests, in a process of its own.

The reference's result depends on PYTHONHASHSEED, which is fixed when a Python process
starts, so the tests start this script once per seed and keep it running:

    PYTHONHASHSEED=1 python tests/tsum/reference_runner.py

Protocol: each stdin line is base64(pickle({"df": pandas.DataFrame, "npartitions": int,
"function": "summarize" | "local_expansion"}));
for each, one stdout line base64(pickle(reply)) where reply is
{"patterns": [(((attribute, value), ...), saving, coverage), ...]} or, when the
reference raises, {"error": "Type: message", "traceback": text}.
The reference gets `dd.from_pandas(df, npartitions=...)`, as in its documentation, and runs
on Dask's synchronous scheduler (same result as the threaded one, less overhead).
"""

from __future__ import annotations

import base64
import pickle
import sys
import traceback
from typing import Any


def run(df: Any, npartitions: int, function: str = "summarize") -> list[tuple[tuple[tuple[Any, Any], ...], int, float]]:
    """tsum.summarize (a set: order meaningless) or tsum's local_expansion (a list, in order)."""
    import dask
    import dask.dataframe as dd
    from tsum import summarize
    from tsum.local_expansion import local_expansion

    ddf = dd.from_pandas(df, npartitions=npartitions)
    with dask.config.set(scheduler="synchronous"):
        patterns = summarize(ddf=ddf) if function == "summarize" else local_expansion(T=ddf)
    return [(tuple(p.pattern.items()), int(p.saving), float(p.coverage)) for p in patterns]


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        request = pickle.loads(base64.b64decode(line))
        try:
            patterns = run(request["df"], request.get("npartitions", 1), request.get("function", "summarize"))
            reply: dict[str, Any] = {"patterns": patterns}
        except Exception as exc:  # report, keep serving
            reply = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        sys.stdout.write(base64.b64encode(pickle.dumps(reply)).decode() + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
