"""The table ``bench.scale`` prints: each figure at each size, and how it grew from the smallest size."""

from __future__ import annotations

from typing import Any

MIB = 1 << 20


def figures(run: dict[str, Any]) -> dict[str, float]:
    """One run's figures, named; rates in files/s, times in s, memory in MiB."""
    n = run["files"]
    st, job, before, after = run["staging"], run["job"], run["before"], run["after"]
    staged_s = st["tar_staged_s"] + st["references_staged_s"]
    out: dict[str, float] = {
        "tar staging files/s": st["tar_files"] / st["tar_staged_s"],
        "reference staging files/s": st["reference_files"] / max(st["references_staged_s"], 1e-9),
        "job files/s (submit -> exported)": n / job["exported_s"],
        "staged -> exported files/s": n / (staged_s + job["exported_s"]),
        "first result s": job["first_result_s"],
        "last result s": job["last_result_s"],
        "listing s (to the end)": run["listing"]["total_s"],
        "listing first pages ms": run["listing"]["first_pages_ms"],
        "listing last pages ms": run["listing"]["last_pages_ms"],
        "count ms (median)": run["count_ms"]["median"],
        "expiry: rows deleted s": run["expiry"]["rows_gone_s"],
        "small job beside the sweep s": run["expiry"]["small_job_during_s"],
        "small job before it s": run["expiry"]["small_job_before_s"],
        "db MiB written": (after["database"]["bytes"] - before["database"]["bytes"]) / MIB,
        "db MiB after expiry": run["swept"]["database"]["bytes"] / MIB,
        "s3 objects / file": (_objects(after) - _objects(before)) / n,
        "s3 bytes / file": (_bytes(after) - _bytes(before)) / n,
        "kafka messages / file": (sum(after["kafka"].values()) - sum(before["kafka"].values())) / n,
        "tasks": job["tasks"],
    }
    for table, rows in sorted(after["database"]["rows"].items()):
        grown = rows - before["database"]["rows"].get(table, 0)
        if grown:
            out[f"rows {table}"] = grown
            out[f"rows {table} after expiry"] = run["swept"]["database"]["rows"].get(table, 0)
    for table, reads in sorted(after["database"].get("reads", {}).items()):
        seq_rows = reads["seq_rows"] - before["database"]["reads"].get(table, {}).get("seq_rows", 0)
        if seq_rows > n:
            out[f"rows read by seq scans of {table} / file"] = seq_rows / n
    cpu = run["cpu_s"]
    for name, peak in sorted(run["pss_mib"]["peak"].items()):
        out[f"memory {name} peak MiB"] = peak
        out[f"memory {name} end MiB"] = run["pss_mib"]["swept"][name]
        out[f"cpu {name} staging ms/file"] = (cpu["staged"][name] - cpu["start"][name]) * 1000 / n
        out[f"cpu {name} job ms/file"] = (cpu["exported"][name] - cpu["staged"][name]) * 1000 / n
    return out


def _objects(probe: dict[str, Any]) -> int:
    return sum(b["objects"] for b in probe["s3"].values())


def _bytes(probe: dict[str, Any]) -> int:
    return sum(b["bytes"] for b in probe["s3"].values())


def rows_of(runs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    table = [figures(r) for r in runs]
    sizes = [f"{r['files']:,}" for r in runs]
    rows = [("figure", " | ".join(f"{s:>12}" for s in sizes) + " | growth (last / first)")]
    for name in table[0]:
        values = [t.get(name, 0.0) for t in table]
        growth = f"{values[-1] / values[0]:.2f}x" if len(values) > 1 and values[0] else ""
        rows.append((name, " | ".join(f"{v:>12,.2f}" for v in values) + f" | {growth}"))
    return rows
