"""What the scale benchmark measures around a running Conveyor: each process's memory, sampled every second,
and what the run left in PostgreSQL, S3 and Kafka."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import asyncpg
import boto3
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                # the command may hold spaces and parentheses: the parent pid is the 2nd field after the last ')'
                stat = Path(entry.path, "stat").read_text()
                found[int(stat.rpartition(")")[2].split()[1])].append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


TICK = os.sysconf("SC_CLK_TCK")


def _pss(pid: int) -> int:
    """Proportional set size: a page shared by n processes counts 1/n to each, so PostgreSQL's backends
    (which all map its shared buffers) add up to what they really hold."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and of its children that have exited and been waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return sum(int(f) for f in fields[11:15]) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


class MemorySampler:
    """Memory (PSS) and CPU time of every named process with its descendants (a service's lanes, PostgreSQL's
    backends), sampled every ``interval_s``; ``mark`` keeps the last sample under a phase's name."""

    def __init__(self, processes: dict[str, int], interval_s: float = 1.0) -> None:
        self.processes = processes
        self.interval_s = interval_s
        self.peak: dict[str, int] = defaultdict(int)
        self.last: dict[str, int] = {}
        self.marks: dict[str, dict[str, int]] = {}
        self.cpu_marks: dict[str, dict[str, float]] = {}
        self._cpu_seen: dict[str, dict[int, float]] = defaultdict(dict)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def sample(self) -> dict[str, int]:
        children = _children()
        now = {}
        for name, pid in self.processes.items():
            tree, total = [pid], 0
            while tree:
                p = tree.pop()
                total += _pss(p)
                # the most seen of each process: one that ends (a PostgreSQL backend) keeps its share
                self._cpu_seen[name][p] = max(self._cpu_seen[name].get(p, 0.0), _cpu_s(p))
                tree += children.get(p, [])
            now[name] = total
            self.peak[name] = max(self.peak[name], total)
        self.last = now
        self.samples += 1
        return now

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def mark(self, phase: str) -> None:
        self.marks[phase] = self.sample()
        self.cpu_marks[phase] = {name: sum(seen.values()) for name, seen in self._cpu_seen.items()}

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def conveyor_processes(home: Path, stack_home: Path) -> dict[str, int]:
    """The service processes ``conveyor up`` recorded, and the stack's."""
    services = json.loads((home / "services.json").read_text())
    stack = json.loads((stack_home / "pids.json").read_text())
    return {**services, **stack}


async def database(dsn: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        size = await conn.fetchval("SELECT pg_database_size(current_database())")
        tables = [r["tablename"] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        rows = {t: await conn.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
        # rows read by sequential scans and fetched through indexes: a figure that grows faster than the
        # batch names the statement that does not scale
        reads = {r["relname"]: {"seq_scans": r["seq_scan"], "seq_rows": r["seq_tup_read"],
                                "index_rows": r["idx_tup_fetch"] or 0}
                 for r in await conn.fetch("SELECT relname, seq_scan, seq_tup_read, idx_tup_fetch"
                                           " FROM pg_stat_user_tables")}
        return {"bytes": size, "rows": rows, "reads": reads}
    finally:
        await conn.close()


def objects(env: dict[str, str]) -> dict[str, dict[str, int]]:
    s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_DEFAULT_REGION"])
    found: dict[str, dict[str, int]] = {}
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        count = size = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                count += 1
                size += obj["Size"]
        found[bucket] = {"objects": count, "bytes": size}
    return found


async def messages(bootstrap: str, prefix: str, idle_s: float = 2.0) -> dict[str, int]:
    """Messages in every topic of ``prefix``, counted by reading them all: Tansu's offsets answer
    (``end_offsets``) is wrong after batched produce, and the last fetch's high-water mark is not."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", max_partition_fetch_bytes=8 << 20)
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if t.startswith(prefix))
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
        if not partitions:
            return {}
        consumer.assign(partitions)
        await consumer.seek_to_beginning()
        counts: dict[str, int] = dict.fromkeys(topics, 0)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_s:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for tp, records in batch.items():
                counts[tp.topic] += len(records)
            if batch:
                quiet_since = time.monotonic()
            elif await _caught_up(consumer, partitions):
                break
        return counts
    finally:
        await consumer.stop()


async def _caught_up(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True


def probe(env: dict[str, str], prefix: str) -> dict[str, Any]:
    return {"database": asyncio.run(database(env["DATABASE_URL"])), "s3": objects(env),
            "kafka": asyncio.run(messages(env["KAFKA_BOOTSTRAP_SERVERS"], prefix))}
