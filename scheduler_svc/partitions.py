"""The partition a keyed event lands on, computed as the producer computes it (murmur2 of the key, Kafka's
default partitioner, in aiokafka and in the Java clients alike), over the partitions the topic registry gives
the topic (``ensure_topics`` creates them so). The scheduler records it for each dispatched task: order holds
within a partition, so a task passed over by a later one of its partition was lost."""

from __future__ import annotations

from aiokafka.partitioner import murmur2

from shared.events import REGISTRY, Topic


def partition_of(key: str, topic: Topic) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % REGISTRY[topic].partitions
