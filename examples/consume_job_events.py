"""Follow Conveyor's public job events on Kafka with plain aiokafka (no Conveyor code needed).

    pip install aiokafka
    python examples/consume_job_events.py --bootstrap localhost:9092 [--prefix conveyor] [--job JOB_ID]

Reads the public topics ``<prefix>.jobs.states.v1`` (every state a job enters: processing, exporting,
succeeded, failed, aborted) and ``<prefix>.jobs.stages.v1`` (``job.processing-completed@v1`` with the results
batch and the export batch it goes to, then ``job.export-completed@v1`` with the archives made) in a
consumer group of its own, and prints one JSON line per event with its CloudEvents attributes, which travel in
the message headers (``ce_id``, ``ce_type``, ``ce_source``, ``ce_time``). With ``--job`` it prints only that
job's events and stops once the job has ended (and, if it
succeeded, its export's event has come). Events of one job share a key, so they arrive in order; a
consumer that restarts may see an event again (at-least-once): ``ce_id`` tells it that it already has it.
The payloads' JSON Schemas: shared/events/schema/events/; the whole contract: GET /asyncapi on the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid

from aiokafka import AIOKafkaConsumer

TERMINAL = {"succeeded", "failed", "aborted"}


async def follow(bootstrap: str, prefix: str, job_id: str | None, group: str) -> None:
    consumer = AIOKafkaConsumer(f"{prefix}.jobs.states.v1", f"{prefix}.jobs.stages.v1",
                                bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=True)
    await consumer.start()
    seen: set[str] = set()
    ended, exported = None, False
    try:
        async for record in consumer:
            headers = {key: value.decode() for key, value in record.headers}
            event = json.loads(record.value)
            if headers["ce_id"] in seen or (job_id and event.get("job_id") != job_id):
                continue
            seen.add(headers["ce_id"])
            print(json.dumps({"type": headers["ce_type"], "id": headers["ce_id"], "source": headers["ce_source"],
                              "time": headers["ce_time"], "job_id": event.get("job_id"),
                              "state": event.get("state"), "results_batch": event.get("results_batch_id"),
                              "export_batch": event.get("export_batch_id")}), flush=True)
            if event.get("state") in TERMINAL:
                ended = event["state"]
            elif headers["ce_type"] == "job.export-completed@v1":
                exported = True
            # the two topics are read side by side: a succeeded job's export may come before or after its end
            if job_id and ended and (ended != "succeeded" or exported):
                return
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default="localhost:9092")
    parser.add_argument("--prefix", default="conveyor", help="Conveyor's KAFKA_TOPIC_PREFIX")
    parser.add_argument("--job", help="only this job's events; stop when it ends")
    parser.add_argument("--group", default=f"example-{uuid.uuid4().hex[:8]}", help="consumer group")
    args = parser.parse_args()
    asyncio.run(follow(args.bootstrap, args.prefix, args.job, args.group))


if __name__ == "__main__":
    main()
