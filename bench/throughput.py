"""Throughput: the bare model loops (this machine's limits) against Conveyor and the tools users pick instead.

    bash bench/peers/setup.sh      # once: the peers' environments (.venv-inference-peer, .venv-ray)
    .venv/bin/python -m bench.throughput [--images 500] [--threads N] [--repeats 3] [--no-peers]

Same machine, same images, same YOLOv4-tiny@416 network, in one run (the CPU's name and what OpenVINO can
accelerate on it are printed first):
* bare loops: one process doing only what a worker must do per image — JPEG decode, letterbox, inference,
  NMS — on onnxruntime fp32 (the reference: one session with a thread per core, batches of 1 and 8, and one
  single-threaded session per core, as a worker's lanes), and on OpenVINO in fp32 and in the precision the CPU
  accelerates (bf16 with AMX / AVX-512 BF16): one stream per core of one compiled model, as a worker has them.
  Each is run with a full OpenCV decode (as the peers decode) and with the worker's (``worker_svc.decoding``).
  The best onnxruntime configuration and the best of all are each run ``--repeats`` times; their medians are
  the reference limit and the best limit.
* the accuracy gate on every image: each OpenVINO precision against onnxruntime fp32 (``worker_svc.inference.gate``).
* Conveyor: the images staged once as tars (bulk upload + background indexing), then one job (it runs the
  accuracy gate and fills the caches; shown apart) and ``--repeats`` timed jobs, each from submit to its end as
  its webhook tells it: processing (Kafka task events, S3 reads, results) and export (archives), every service
  on this machine. Once with the worker's defaults (``WORKER_RUNTIME=auto``), once on onnxruntime fp32 (the
  same runtime as the reference limit). Medians are compared (a shared machine's speed drifts by a few percent
  from one run to the next).
* inference-cli: ``inference workflows process-images-directory --processing_target inference_package``
  (``bench.peers.inference_cli``), whole command timed.
* Ray Data: ``read_binary_files`` -> ``map_batches`` actor pool -> ``write_json`` (``bench.peers.ray_data``).
Images/s and Conveyor's ratio to each are printed and written to bench/results/throughput.json.

``--machine-type gpu`` (with onnxruntime-gpu installed: ``pip install -e '.[gpu]'``) measures the GPU instead:
the bare loop on one CUDA session with batches of 1, 8 and 16, and with one session per core and batches of 8
(so that decoding overlaps), against a ``gpu`` job on a ``gpu`` worker (one lane, batches of
``WORKER_BATCH_SIZE``, 8 by default), written to bench/results/throughput-gpu.json. The peers are left out
there: their environments run onnxruntime on CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DATA, TAR_LIMIT, JobHooks, decode, real_images, report, running_conveyor, tar_of, wait_notified
from bench.peers import inference_cli
from conveyor_client.client import ConveyorClient
from deploy.local.demo import detector_workflow
from scheduler_svc.default_model import ensure_default_model
from shared.config import REPO_ROOT, ServiceSettings
from worker_svc.decoding import decode_image
from worker_svc.inference.detector import OnnxDetector
from worker_svc.inference.gate import judge
from worker_svc.inference.runtimes import Execution, available_providers, choices, cpu_capabilities, precisions

COMPILED = DATA / "compiled"


def bare_loop(files: list[Path], threads: int | None, batch: int, sessions: int = 1, gpu: bool = False,
              execution: Execution | None = None, reduced: bool = False) -> tuple[float, int]:
    """Images/s and detections of ``sessions`` threads, each decoding and detecting its share of the files
    on its own session of ``threads`` threads (onnxruntime's, on the GPU if ``gpu`` and onnxruntime has CUDA,
    or ``execution``'s runtime), ``batch`` images per run; ``reduced``: decoded as a worker does
    (``worker_svc.decoding``: libjpeg-turbo, smaller where the image is at least twice the input), else in full
    with OpenCV as the peers do."""
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    # one model with a session per lane, as a worker has them (OpenVINO: one request per stream of one
    # compiled model; separately compiled models would each pin their stream to the same core)
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=threads,
                            prefer_gpu=gpu, execution=execution, cache_dir=COMPILED, sha256="bench")
    if sessions > 1:
        detector.enable_batching(1, lanes=sessions)
    detector.warm_up()  # session initialisation is not throughput

    def read(f: Path) -> np.ndarray:
        return decode_image(f.read_bytes(), model.input_size).array if reduced else decode(f.read_bytes())

    def share(lane: int) -> int:
        mine, found = files[lane::sessions], 0
        for i in range(0, len(mine), batch):
            images = [read(f) for f in mine[i:i + batch]]
            found += sum(len(d) for d in detector.detect(images, confidence=0.35, session=detector.sessions[lane]))
        return found

    started = time.perf_counter()
    with ThreadPoolExecutor(sessions) as pool:
        found = sum(pool.map(share, range(sessions)))
    speed = len(files) / (time.perf_counter() - started)
    detector.close()
    return speed, found


def gate_figures(files: list[Path]) -> dict[str, Any]:
    """The accuracy gate on every benchmark image: each candidate execution against onnxruntime fp32."""
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    detector = OnnxDetector(model.onnx_path, model.class_names, input_size=model.input_size, threads=1,
                            prefer_gpu=False, cache_dir=COMPILED, sha256="bench")
    verdict = judge(detector, choices("auto", "auto", "cpu"), [decode(f.read_bytes()) for f in files])
    assert verdict is not None, "the benchmark images gave the reference too few detections to judge"
    return verdict.as_dict()


def bench_workflow() -> dict[str, Any]:
    workflow = detector_workflow()
    workflow["steps"] = workflow["steps"][:2]  # detection + count, as the bare loop does
    workflow["outputs"] = workflow["outputs"][:2]
    return workflow


def ray_data(files: list[Path]) -> dict[str, Any]:
    python = REPO_ROOT / ".venv-ray" / "bin" / "python"
    model = ensure_default_model(ServiceSettings().cache_dir / "models")
    work = DATA / "ray"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    onnx = shutil.copy(model.onnx_path, work / "model.onnx")
    (work / "model.names.json").write_text(json.dumps(model.class_names))
    done = subprocess.run([str(python), "-m", "bench.peers.ray_data", str(files[0].parent), str(onnx),
                           str(work / "out")], capture_output=True, text=True, cwd=REPO_ROOT,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "RAY_AUTH_MODE": "disabled"})
    if done.returncode != 0:
        raise RuntimeError(f"the Ray Data run failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["images"] != len(files):
        raise RuntimeError(f"Ray Data wrote {result['images']} results for {len(files)} images")
    return result


def conveyor_jobs(files: list[Path], threads: int | None, worker_env: dict[str, str], repeats: int,
                  machine_type: str = "cpu") -> dict[str, Any]:
    """The images staged once, then ``repeats`` jobs over them on the same stack (its worker consuming the
    tasks of ``machine_type``), each timed from submit to its end as notified by webhook."""
    runs: list[dict[str, float]] = []
    with JobHooks() as hooks:
        env = {"WORKER_ORT_THREADS": str(threads or 0), "CONVEYOR_WEBHOOK_ALLOWED_HOSTS": json.dumps([hooks.host]),
               "WORKER_MACHINE_TYPE": machine_type, **worker_env}
        with running_conveyor(**env) as (base, key), contextlib.closing(ConveyorClient(base, key)) as client:
            client.put_workflow("bench-detect", bench_workflow())
            batch = f"bench-{int(time.time())}"
            staged = time.perf_counter()
            for i in range(0, len(files), TAR_LIMIT):
                client.tar_upload(batch, tar_of(files[i:i + TAR_LIMIT]))
            while client.count(batch) < len(files):
                time.sleep(0.1)
            stage_s = time.perf_counter() - staged
            body = {"type": "simple-image-processing-v1",
                    "jobInput": {"type": "staging-batch-input-v1", "batchId": batch},
                    "computeConfiguration": {"type": "compute-configuration-v2", "machineType": machine_type},
                    "processingSpecification": {"type": "workflows-processing-specification-v1",
                                                "workspace": client.workspace, "workflowId": "bench-detect"},
                    "notificationsURL": hooks.url}
            for run in range(repeats + 1):
                job_id = f"{batch}-{run}"
                submitted = time.perf_counter()
                client.create_job(job_id, body)
                ended, job = wait_notified(client, hooks, job_id)
                assert job["state"] == "succeeded", job
                runs.append({"job_s": ended - submitted, "images_per_s": len(files) / (ended - submitted),
                             "runtime_s": job["runtimeSeconds"]})
                inference = job.get("inference", [])
                print(f"Conveyor job {job_id} ({worker_env or 'defaults'}): {runs[-1]['images_per_s']:.1f} images/s",
                      flush=True)
    # the first job also runs the accuracy gate (once per model and machine) and fills the caches: shown apart
    first, runs = runs[0], runs[1:]
    return {"stage_s": stage_s, "first_job": first, "runs": runs, "worker": worker_env, "inference": inference,
            "images_per_s": statistics.median(r["images_per_s"] for r in runs)}


def _cpu_bare_configs(threads: int | None) -> dict[str, tuple[Any, ...]]:
    """(threads, batch, sessions, gpu, execution, reduced decode) of each bare loop on CPU."""
    cores = os.cpu_count() or 1
    configs: dict[str, tuple[Any, ...]] = {
        "onnxruntime fp32, 1 session x all cores, batch 1": (threads, 1, 1, False, None, False),
        "onnxruntime fp32, 1 session x all cores, batch 8": (threads, 8, 1, False, None, False),
        "onnxruntime fp32, 1 session per core x 1 thread, batch 1": (1, 1, cores, False, None, False),
        "onnxruntime fp32, 1 session per core x 1 thread, batch 1, worker's decode": (1, 1, cores, False, None,
                                                                                      True)}
    for precision in [p for p in precisions("openvino", "cpu") if p != "fp16"]:
        execution = Execution("openvino", precision, "cpu")
        configs[f"openvino {precision}, 1 stream per core x 1 thread, batch 1"] = (1, 1, cores, False, execution,
                                                                                  False)
        configs[f"openvino {precision}, 1 stream per core x 1 thread, batch 1, worker's decode"] = (
            1, 1, cores, False, execution, True)
    return configs


def _limit(files: list[Path], configs: dict[str, tuple[Any, ...]], bare: dict[str, tuple[float, int]],
           names: list[str], repeats: int) -> tuple[str, list[float]]:
    """The best of ``names`` run ``repeats`` times in all: (its name, its images/s in each run)."""
    best = max(names, key=lambda k: bare[k][0])
    return best, [bare[best][0]] + [bare_loop(files, *configs[best])[0] for _ in range(repeats - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: one per core)")
    parser.add_argument("--worker", action="append", default=[], metavar="KEY=VALUE",
                        help="worker setting for the Conveyor run, e.g. WORKER_BATCH_SIZE=1 (repeatable)")
    parser.add_argument("--no-peers", action="store_true", help="skip inference-cli and Ray Data")
    parser.add_argument("--repeats", type=int, default=3,
                        help="Conveyor jobs, and runs of the best bare loops; their medians are compared")
    parser.add_argument("--conveyor-only", action="store_true", help="only the Conveyor runs (tuning)")
    parser.add_argument("--machine-type", choices=("cpu", "gpu"), default="cpu",
                        help="gpu: the bare loop on onnxruntime's CUDA provider (batches of 1, 8 and 16) against a "
                             "gpu job on a gpu worker; needs onnxruntime-gpu (pip install -e '.[gpu]'); no peers")
    args = parser.parse_args()
    files = real_images(args.images)
    threads = args.threads or None
    worker_env = dict(kv.split("=", 1) for kv in args.worker)
    gpu = args.machine_type == "gpu"
    if args.conveyor_only:
        print(conveyor_jobs(files, threads, worker_env, args.repeats, args.machine_type))
        return
    if gpu:
        provider = available_providers(prefer_gpu=True)[0]  # CPUExecutionProvider without onnxruntime-gpu
        configs: dict[str, tuple[Any, ...]] = {
            f"1 session on {provider}, batch {b}": (threads, b, 1, True) for b in (1, 8, 16)}
        # decoding on one thread can starve a GPU: a thread per core, each with its own session, overlaps them
        configs[f"1 session per core on {provider}, batch 8"] = (threads, 8, os.cpu_count() or 1, True)
    else:
        configs = _cpu_bare_configs(threads)
    bare = {}
    for name, config in configs.items():
        bare[name] = bare_loop(files, *config)
        print(f"bare loop: {name}: {bare[name][0]:.1f} images/s", flush=True)
    reference_names = [k for k in configs if len(configs[k]) < 5 or configs[k][4] is None]
    ref_best, ref_runs = _limit(files, configs, bare, reference_names, args.repeats)
    best, best_runs = _limit(files, configs, bare, list(configs), args.repeats)
    if best == ref_best:
        best_runs = ref_runs
    ref_limit, limit = statistics.median(ref_runs), statistics.median(best_runs)
    gate = None if gpu else gate_figures(files)
    conveyor = conveyor_jobs(files, threads, worker_env, args.repeats, args.machine_type)
    same_runtime = None if gpu or worker_env else conveyor_jobs(
        files, threads, {"WORKER_RUNTIME": "onnxruntime", "WORKER_PRECISION": "fp32"}, args.repeats)
    speed = conveyor["images_per_s"]
    peers: dict[str, dict[str, Any]] = {}
    if not (args.no_peers or gpu):  # the peers' environments run onnxruntime on CPU
        if inference_cli.available():
            wf = bench_workflow()
            peers["inference-cli (process-images-directory, local)"] = inference_cli.run(
                files[0].parent, inference_cli.workflow(wf["steps"], wf["outputs"]), len(files))
        if (REPO_ROOT / ".venv-ray" / "bin" / "python").exists():
            peers["Ray Data (map_batches, actor per core)"] = ray_data(files)
    cpu_name, capabilities = cpu_capabilities()
    rows = [("machine", f"{os.cpu_count()} cores, {cpu_name or 'CPU'}; OpenVINO can accelerate: "
                        f"{', '.join(sorted(capabilities)) or '-'}"),
            ("images", f"{len(files)} real photos/frames, 320-1600 px wide" + (", gpu job and worker" if gpu else ""))]
    rows += [(f"bare loop: {k}", f"{v:.1f} images/s ({found} detections)") for k, (v, found) in bare.items()]
    rows += [(f"bare loop, reference limit ({ref_best}), {len(ref_runs)} runs",
              ", ".join(f"{v:.1f}" for v in ref_runs) + f" images/s; median {ref_limit:.1f}"),
             (f"bare loop, best ({best}), {len(best_runs)} runs",
              ", ".join(f"{v:.1f}" for v in best_runs) + f" images/s; median {limit:.1f}")]
    if gate is not None:
        for trial in gate["trials"][1:]:
            rows.append((f"accuracy gate on {gate['images']} images: {trial['runtime']} {trial['precision']}",
                         f"{trial['matched']:.1%} of {gate['reference_findings']} reference detections matched, "
                         f"{trial['matched_back']:.1%} back; {'passes' if trial['passed'] else 'fails'}"))
    ran = ", ".join(f"{i['runtime']} {i['precision']}" for i in conveyor["inference"]) or "?"
    runs = ", ".join(f"{r['images_per_s']:.1f}" for r in conveyor["runs"])
    rows += [("Conveyor: staging (tar upload + indexing)", f"{conveyor['stage_s']:.1f} s"),
             ("Conveyor: first job (accuracy gate, caches filled)",
              f"{conveyor['first_job']['job_s']:.1f} s = {conveyor['first_job']['images_per_s']:.1f} images/s"),
             (f"Conveyor ({ran}): submit -> exported, {len(conveyor['runs'])} jobs",
              f"{runs} images/s; median {speed:.1f}"),
             ("Conveyor / reference bare loop (medians)", f"{speed / ref_limit:.2f}"),
             ("Conveyor / best bare loop (medians)", f"{speed / limit:.2f}")]
    if same_runtime is not None:
        same = same_runtime["images_per_s"]
        same_runs = ", ".join(f"{r['images_per_s']:.1f}" for r in same_runtime["runs"])
        rows += [("Conveyor (onnxruntime fp32): submit -> exported", f"{same_runs} images/s; median {same:.1f}"),
                 ("Conveyor (onnxruntime fp32) / reference bare loop", f"{same / ref_limit:.2f}")]
    for name, peer in peers.items():
        rows += [(name, f"{peer['seconds']:.1f} s = {peer['images_per_s']:.1f} images/s "
                        f"({peer['detections']} detections)"),
                 (f"Conveyor / {name.split(' (')[0]}", f"{speed / peer['images_per_s']:.2f}")]
    report("throughput-gpu" if gpu else "throughput", rows, {
        "images": len(files), "machine_type": args.machine_type, "repeats": args.repeats,
        "cpu": {"name": cpu_name, "openvino_capabilities": sorted(capabilities)},
        "bare_images_per_s": {k: v for k, (v, _) in bare.items()},
        "reference_limit": {"config": ref_best, "runs_images_per_s": ref_runs, "images_per_s": ref_limit},
        "best_limit": {"config": best, "runs_images_per_s": best_runs, "images_per_s": limit},
        "accuracy_gate": gate, "conveyor": conveyor, "conveyor_onnxruntime_fp32": same_runtime,
        "ratio_to_reference_bare": speed / ref_limit, "ratio_to_best_bare": speed / limit,
        "same_runtime_ratio": same_runtime["images_per_s"] / ref_limit if same_runtime else None,
        "peers": peers, "ratio_to_peers": {k: speed / p["images_per_s"] for k, p in peers.items()}})


if __name__ == "__main__":
    main()
