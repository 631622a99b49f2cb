"""murmur2 as Kafka computes it (the vectors of Kafka's own UtilsTest)."""

import pytest

from realtime_platform.partitioning import murmur2, partition_of


@pytest.mark.parametrize("text, expected", [
    ("21", -973932308),
    ("foobar", -790332482),
    ("a-little-bit-long-string", -985981536),
    ("a-little-bit-longer-string", -1486304829),
    ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    ("abc", 479470107),
])
def test_murmur2_matches_kafka(text, expected):
    assert murmur2(text.encode()) == expected


def test_partition_is_positive_and_below_the_count():
    assert {partition_of(str(k), 4) for k in range(1000)} == {0, 1, 2, 3}
    assert partition_of("21", 4) == (-973932308 & 0x7FFFFFFF) % 4
