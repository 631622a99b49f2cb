"""Which Kafka partition a record key lands in, as Kafka's default partitioner and Pinot's `Murmur`
partition function compute it: murmur2 of the key's bytes, made positive, modulo the partition
count. Pinot hashes the column value's string (UTF-8); Kafka hashes the serialized key. They agree
when the connector writes the key column as a plain string (see scripts/bootstrap.sh,
validate_partitioning, and docs/scaling.md)."""

from __future__ import annotations

_MASK = 0xFFFFFFFF
_M = 0x5BD1E995


def murmur2(data: bytes) -> int:
    """Kafka's `Utils.murmur2` (seed 0x9747b28c), as a signed 32-bit int like Java's."""
    h = (0x9747B28C ^ len(data)) & _MASK
    whole = len(data) - len(data) % 4
    for i in range(0, whole, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = data[whole:]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_of(key: bytes | str, partitions: int) -> int:
    """Kafka's partition for a non-null key (and Pinot's Murmur partition of the same string)."""
    data = key.encode() if isinstance(key, str) else key
    return (murmur2(data) & 0x7FFFFFFF) % partitions
