"""The topics a service creates at start: every registered topic and its dead-letter topic, with the
partitions the registry gives and the replication factor the settings give."""

from __future__ import annotations

import pytest

from shared.broker import missing_topics
from shared.config import KafkaSettings
from shared.events import topic_name
from shared.events.topics import REGISTRY


def test_missing_topics_carry_the_registry_s_partitions_and_the_settings_replication() -> None:
    kafka = KafkaSettings(KAFKA_TOPIC_PREFIX="acme", KAFKA_REPLICATION_FACTOR="3")
    made = {t.name: t for t in missing_topics(kafka, set())}
    assert len(made) == 2 * len(REGISTRY)
    for spec in REGISTRY.values():
        name = topic_name("acme", spec.topic)
        assert made[name].num_partitions == spec.partitions and made[f"{name}.dlq"].num_partitions == 1
    assert {t.replication_factor for t in made.values()} == {3}


def test_only_the_topics_the_cluster_lacks_are_made_and_a_single_broker_is_the_default() -> None:
    kafka = KafkaSettings(KAFKA_TOPIC_PREFIX="acme")
    first = topic_name("acme", next(iter(REGISTRY.values())).topic)
    made = missing_topics(kafka, {first, f"{first}.dlq"})
    assert len(made) == 2 * len(REGISTRY) - 2 and first not in {t.name for t in made}
    assert {t.replication_factor for t in made} == {1}


def test_a_replication_factor_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="KAFKA_REPLICATION_FACTOR"):
        KafkaSettings(KAFKA_REPLICATION_FACTOR="0")
