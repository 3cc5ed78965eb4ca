"""Kafka hops on the local stack: what the consumers' fetch wait costs a job on Tansu, and what it costs idle.

    .venv/bin/python -m bench.hops [--waits 500 50] [--jobs 7] [--images 16]

Tansu answers a consumer's waiting fetch when the wait ends, not when a message arrives (Apache Kafka answers
at once), so on the local stack every hop of a job — task ready, task done, stage complete, job state, webhook
request — waits for part of ``KAFKA_FETCH_MAX_WAIT_MS``. For each wait, on a fresh local stack:
* one hop: a message produced every 137 ms to a consumer already waiting (aiokafka, as the services use it),
  30 of them — median, 90th percentile and longest;
* the idle stack (every service, no job) over 30 s: the share of one core it takes (the shorter the wait, the
  more often every consumer asks);
* a small job (``--images`` real photos, the default network), ``--jobs`` times, each from submit to its
  webhook (``bench.throughput.conveyor_jobs``): median and spread;
* the throughput job (``--large`` photos, 500 as bench.throughput has it; 0 skips it), ``--jobs`` times:
  images/s, median and spread.
Written to bench/results/hops.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.common import real_images, report, running_conveyor
from bench.throughput import conveyor_jobs
from deploy.local.stack import LocalStack

PROBES = 30


async def _hops(bootstrap: str, wait_ms: int) -> list[float]:
    topic = f"hops-{wait_ms}-{int(time.time())}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    await producer.send_and_wait(topic, b"-")  # the topic exists before the consumer looks for it
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=topic, fetch_max_wait_ms=wait_ms,
                                auto_offset_reset="latest")
    await consumer.start()
    seconds: list[float] = []

    async def read() -> None:
        async for message in consumer:
            if message.value and message.value != b"-":
                seconds.append(time.perf_counter() - float(message.value))
                if len(seconds) == PROBES:
                    return

    reader = asyncio.create_task(read())
    await asyncio.sleep(2.0)  # assigned and waiting
    try:
        for _ in range(PROBES):
            await producer.send_and_wait(topic, repr(time.perf_counter()).encode())
            await asyncio.sleep(0.137)
        await asyncio.wait_for(reader, 30)
    finally:
        await consumer.stop()
        await producer.stop()
    return sorted(seconds)


def one_hop(wait_ms: int) -> dict[str, float]:
    stack = LocalStack(base=Path(tempfile.mkdtemp(prefix="hops-")), port_base=24500, kafka_storage="memory",
                       durable=False)
    env = stack.start()
    try:
        hops = asyncio.run(_hops(env["KAFKA_BOOTSTRAP_SERVERS"], wait_ms))
    finally:
        stack.stop()
    return {"median_ms": statistics.median(hops) * 1000, "p90_ms": hops[int(0.9 * len(hops))] * 1000,
            "max_ms": hops[-1] * 1000}


def _busy_cores(seconds: float) -> float:
    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(values), values[3] + values[4]  # all, idle + iowait

    total, idle = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return (1 - (idle2 - idle) / (total2 - total)) * (os.cpu_count() or 1)


def idle_stack(wait_ms: int) -> float:
    """Cores the idle stack takes with every service's consumers on ``wait_ms``."""
    with running_conveyor(KAFKA_FETCH_MAX_WAIT_MS=str(wait_ms)):
        time.sleep(15)  # groups joined, start-up work done
        return _busy_cores(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waits", type=int, nargs="+", default=[500, 50])
    parser.add_argument("--jobs", type=int, default=7)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--large", type=int, default=500)
    args = parser.parse_args()
    files = real_images(args.images)
    results: dict[int, dict[str, Any]] = {}
    for wait in args.waits:
        hop = one_hop(wait)
        idle = idle_stack(wait)
        jobs = conveyor_jobs(files, None, {"KAFKA_FETCH_MAX_WAIT_MS": str(wait)}, args.jobs)
        job_s = sorted(r["job_s"] for r in jobs["runs"])
        results[wait] = {"hop": hop, "idle_stack_cores": idle, "job_s": job_s,
                         "job_median_s": statistics.median(job_s)}
        if args.large:
            large = conveyor_jobs(real_images(args.large), None, {"KAFKA_FETCH_MAX_WAIT_MS": str(wait)}, args.jobs)
            results[wait]["large_images_per_s"] = sorted(r["images_per_s"] for r in large["runs"])
        print(f"fetch wait {wait} ms: hop median {hop['median_ms']:.0f} ms; idle stack {idle:.2f} cores; "
              f"{args.images}-image job {results[wait]['job_median_s']:.2f} s", flush=True)
    rows = []
    for wait, r in results.items():
        hop = r["hop"]
        rows += [(f"fetch wait {wait} ms: one hop ({PROBES} messages)",
                  f"median {hop['median_ms']:.1f} ms, p90 {hop['p90_ms']:.1f}, longest {hop['max_ms']:.1f}"),
                 (f"fetch wait {wait} ms: idle stack (every service, 30 s)", f"{r['idle_stack_cores']:.3f} cores"),
                 (f"fetch wait {wait} ms: {args.images}-image job, submit -> webhook ({len(r['job_s'])} jobs)",
                  f"median {r['job_median_s']:.2f} s ({r['job_s'][0]:.2f}-{r['job_s'][-1]:.2f})")]
        if "large_images_per_s" in r:
            speeds = r["large_images_per_s"]
            rows.append((f"fetch wait {wait} ms: {args.large}-image job ({len(speeds)} jobs)",
                         f"median {statistics.median(speeds):.1f} images/s ({speeds[0]:.1f}-{speeds[-1]:.1f})"))
    report("hops", rows, {"images": args.images, "large_images": args.large, "jobs": args.jobs, "probes": PROBES,
                          "by_fetch_wait_ms": {str(k): v for k, v in results.items()}})


if __name__ == "__main__":
    main()
