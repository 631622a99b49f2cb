"""Heap bytes per primary key of a Pinot 0.11 upsert table, for each `upsertConfig.hashFunction`.

A Pinot server keeps one entry per key it has ever seen in its upsert map (#23): the key object
that `HashUtils.hashPrimaryKey` makes (NONE: the PrimaryKey with its boxed column values; MD5 and
MURMUR3: a ByteArray of a 16-byte digest), a RecordLocation (segment, doc id, boxed comparison
value) and the ConcurrentHashMap's node and table slot. This builds that map with Pinot's own
classes from the local distribution (.state/dist/pinot-<version>/lib) for a one-column LONG key
(`orders`: order_id) and a two-column LONG, LONG key (`person`: id, customer_id), and measures each
part with OpenJDK JOL (GraphLayout.totalSize over every key, divided by the key count), on the Java
and heap the Pinot server runs with (compressed oops: heap under 32 GB). Needs no running stack.

    .venv/bin/python benchmarks/upsert_key_size.py --keys 100000

The map's table share depends on the key count (the table doubles at 3/4 full): 5.3-10.7 bytes.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from realtime_platform.config import settings
from realtime_platform.local.install import fetch_artifact
from realtime_platform.local.jvm import find_java_home
from realtime_platform.local.paths import state_paths

SOURCE = Path(__file__).resolve().parent / "UpsertKeySize.java"
JOL = "org.openjdk.jol:jol-core:0.17"


def measure(keys: int) -> list[str]:
    """UpsertKeySize's output lines, compiled by the transform check's ECJ and run beside Pinot's jars."""
    cfg = settings()
    pinot = state_paths(cfg).dist / f"pinot-{cfg.versions.pinot}"
    if not (pinot / "lib").is_dir():
        raise SystemExit(f"no local Pinot distribution at {pinot} (make install)")
    java = find_java_home(minimum=17) / "bin" / "java"  # as the Pinot services choose it
    classpath = ":".join(str(jar) for jar in [fetch_artifact(cfg, JOL), *sorted((pinot / "lib").glob("*.jar"))])
    with tempfile.TemporaryDirectory() as classes:
        subprocess.run([str(java), "-jar", str(pinot / "tools" / "ecj.jar"), "-17", "-nowarn", "-cp", classpath,
                        "-d", classes, str(SOURCE)], check=True)
        flags = [f"-Xmx{cfg.heaps.pinot}", "-XX:+UseG1GC", "-Djdk.attach.allowAttachSelf=true"]  # Pinot's heap and GC
        result = subprocess.run([str(java), *flags, "-cp", f"{classes}:{classpath}", "UpsertKeySize", str(keys)],
                                stdout=subprocess.PIPE, text=True, check=True)
    print(f"{java} {' '.join(flags)}")
    return result.stdout.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000, help="distinct keys in each map")
    parser.add_argument("--vm", action="store_true", help="also print JOL's description of the VM's layout")
    args = parser.parse_args()
    lines = measure(args.keys)
    if args.vm:
        print("\n".join(line[2:] for line in lines if line.startswith("# ")))
    shapes = {"1": "LONG (order_id)", "2": "LONG, LONG (id, customer_id)"}
    print(f"{args.keys:,} keys per map; bytes per key")
    print(f"{'key columns':<30}{'hashFunction':<14}{'key':>8}{'RecordLocation':>16}{'map node+table':>16}{'total':>8}")
    for line in lines:
        if line.startswith("#"):
            continue
        columns, hash_function, key, location, node = line.split("\t")
        total = float(key) + float(location) + float(node)
        print(f"{shapes[columns]:<30}{hash_function:<14}{float(key):>8.1f}{float(location):>16.1f}"
              f"{float(node):>16.1f}{total:>8.1f}")


if __name__ == "__main__":
    main()
