"""The docs' architecture diagram is generated from the code (the topic registry and the tables' owners), so
it cannot drift: ``python -m tests.contracts.test_docs_architecture`` prints the block to paste."""

from __future__ import annotations

from shared.events import REGISTRY
from tests.contracts.generated import Block
from tests.contracts.test_table_ownership import owners

BLOCK = Block("architecture", "tests/contracts/test_docs_architecture.py", "docs/architecture.md")
NODES = {"ingest_svc": "ingest", "scheduler_svc": "scheduler", "worker_svc": "worker", "export_svc": "export",
         "notifier_svc": "notifier"}


def diagram() -> str:
    lines = ["```mermaid", "flowchart LR",
             "  clients([REST clients, inference-cli, web UI]) --> gateway[gateway]",
             "  gateway --> ingest & scheduler & notifier"]
    for spec in REGISTRY.values():
        consumers = [NODES[c] for c in spec.consumers] + (["outside"] if spec.public else [])
        for producer in spec.producers:
            for consumer in consumers:
                if consumer == NODES[producer]:
                    continue  # jobs.stages: each side consumes the other's stage, never its own
                lines.append(f"  {NODES[producer]} -- {spec.topic.value} --> {consumer}")
    lines.append("  outside([outside consumers: public topics])")
    tables: dict[str, list[str]] = {}
    for table, owner in sorted(owners().items()):
        tables.setdefault(owner, []).append(table)
    for owner, names in sorted(tables.items()):
        node = NODES.get(owner, "platform[shared platform kit]")
        lines.append(f"  {node} --- {node.split('[')[0]}_db[({', '.join(names)})]")
    lines.append("```")
    return "\n".join(lines)


def test_the_readme_shows_the_architecture_of_the_code() -> None:
    BLOCK.check(diagram())


if __name__ == "__main__":
    BLOCK.show(diagram())
