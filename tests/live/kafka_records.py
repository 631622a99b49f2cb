"""Reading a Kafka topic in the live tests: every record from the start of each partition to the
end it had when the read began (no "quiet for a while" guess)."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, TopicPartition

from tests.live.polling import wait


def read_topic(cfg, topic: str) -> list:
    """Every record of the topic, from the beginning of each partition to its current end."""
    consumer = Consumer({"bootstrap.servers": cfg.kafka_bootstrap, "group.id": f"probe-{time.time_ns()}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        records: list = []
        done = {p for p, end in ends.items() if end == 0}

        def read_to_the_ends() -> bool:
            message = consumer.poll(1)
            if message is not None and not message.error():
                records.append(message)
                if message.offset() + 1 >= ends[message.partition()]:
                    done.add(message.partition())
            return len(done) == len(ends)

        wait(f"{topic}: every partition read to its end", read_to_the_ends, 120, every_s=0,
             explain=lambda: f"read {len(records)} records, partitions done {sorted(done)} of {sorted(ends)}")
        return records
    finally:
        consumer.close()
