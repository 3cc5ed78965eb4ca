"""``conveyor data-staging ...``: the same commands as ``inference rf-cloud data-staging``."""

from __future__ import annotations

import fnmatch
import json
import tarfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.progress import Progress
from rich.table import Table

from conveyor_client.client import ApiError
from conveyor_client.common import ApiKey, ApiUrl, JsonOut, api, command_group, console, emit, err

staging_app = command_group(help="Stage images and videos into batches, inspect and export them.")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".gif", ".webp", ".tif", ".tiff", ".jp2"}
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".flv", ".wmv", ".ogg", ".ogv"}
SIMPLE_UPLOAD_MAX = 32  # above this, images travel as tar archives of up to 500
TAR_SIZE = 500
NOTIFICATION_CATEGORIES = ("ingest-status", "files-status")
REFERENCES_PER_REQUEST = 20_000


def _files(folder: Path, suffixes: set[str]) -> list[Path]:
    if not folder.is_dir():
        err.print(f"[red]{folder} is not a directory[/]")
        raise typer.Exit(2)
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def _s3_references(bucket_path: str, suffixes: set[str]) -> list[dict[str, str]]:
    """s3://bucket/prefix/glob* -> presigned references (AWS credentials and AWS_ENDPOINT_URL from the env)."""
    import boto3

    parts = urlsplit(bucket_path)
    if parts.scheme != "s3":
        err.print(f"[red]{parts.scheme}:// paths need presigned URLs from that cloud: list them into a JSONL of "
                  "{name, url} and use --references[/]")
        raise typer.Exit(2)
    pattern = parts.path.lstrip("/")
    prefix = pattern.split("*", 1)[0].split("?", 1)[0].split("[", 1)[0]
    s3 = boto3.client("s3")
    refs = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=parts.netloc, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if Path(key).suffix.lower() in suffixes and (pattern == prefix or fnmatch.fnmatch(key, pattern)):
                url = s3.generate_presigned_url("get_object", Params={"Bucket": parts.netloc, "Key": key},
                                                ExpiresIn=24 * 3600)
                refs.append({"name": key.replace("/", "_") if "/" in key[len(prefix):] else Path(key).name,
                             "url": url})
    return refs


def _read_references(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        return {"url": source}
    lines = Path(source).read_text().splitlines()
    return {"refs": [json.loads(line) for line in lines if line.strip()]}


def _ingest_references(client, batch_id: str, kind: str, refs: list, url: str | None,
                       batch_name: str | None, ingest_id: str | None, notifications_url: str | None,
                       categories: list[str]) -> list[dict[str, object]]:
    extra: dict[str, object] = {}
    if notifications_url:
        extra = {"notificationsURL": notifications_url, "notificationCategories": categories or None}
    if url:
        body = {f"{kind}ReferencesURL": url, "ingestId": ingest_id, **extra}
        return [client.ingest_references(batch_id, kind, {k: v for k, v in body.items() if v}, batch_name)]
    answers = []
    for n, start in enumerate(range(0, len(refs), REFERENCES_PER_REQUEST)):
        chunk_id = f"{ingest_id}-{n}" if ingest_id and len(refs) > REFERENCES_PER_REQUEST else ingest_id
        body = {f"{kind}References": refs[start:start + REFERENCES_PER_REQUEST], "ingestId": chunk_id, **extra}
        answers.append(client.ingest_references(batch_id, kind, {k: v for k, v in body.items() if v}, batch_name))
    return answers


@staging_app.command("create-batch-of-images")
def create_batch_of_images(
    batch_id: str = typer.Option(..., "--batch-id", "-b"),
    images_dir: Path | None = typer.Option(None, "--images-dir", help="a local folder of images"),
    references: str | None = typer.Option(None, "--references", "-r", help="JSONL of {name, url}: path or URL"),
    bucket_path: str | None = typer.Option(None, "--bucket-path", "-bp", help="s3://bucket/prefix/*.jpg"),
    batch_name: str | None = typer.Option(None, "--batch-name", "-bn"),
    ingest_id: str | None = typer.Option(None, "--ingest-id", "-i"),
    notifications_url: str | None = typer.Option(None, "--notifications-url"),
    notification_category: list[str] = typer.Option([], "--notification-category"),
    api_key: str | None = ApiKey, api_url: str | None = ApiUrl,
) -> None:
    """Stage images from a folder (simple or tar uploads), a references file, or an S3 path."""
    if sum(x is not None for x in (images_dir, references, bucket_path)) != 1:
        err.print("[red]give exactly one of --images-dir, --references or --bucket-path[/]")
        raise typer.Exit(2)
    with api(api_key, api_url) as client:
        if images_dir is None:
            source: dict[str, Any] = (_read_references(references) if references
                                      else {"refs": _s3_references(bucket_path or "", IMAGE_SUFFIXES)})
            answers = _ingest_references(client, batch_id, "image", source.get("refs", []), source.get("url"),
                                         batch_name, ingest_id, notifications_url, notification_category)
            console.print(f"ingest accepted: {', '.join(str(a['ingestId']) for a in answers)}; "
                          f"indexing in the background (see list-ingest-details)")
            return
        notifications = _notification_config(ingest_id, notifications_url, notification_category)
        files = _files(images_dir, IMAGE_SUFFIXES)
        if len(files) <= SIMPLE_UPLOAD_MAX and notifications is None:
            refused = _simple_uploads(client, batch_id, files, batch_name)
            staged = len(files) - len(refused)
        else:  # archives: the only uploads that carry an ingest id and webhooks
            console.print(f"uploading {len(files)} images in archives of up to {TAR_SIZE}; waiting for indexing")
            try:
                result = client.stage_folder(batch_id, images_dir, per_archive=TAR_SIZE, display_name=batch_name,
                                             notifications=notifications)
            except ValueError as exc:
                err.print(f"[red]{exc}[/]")
                raise typer.Exit(2) from None
            staged, refused = result.indexed, ["" for _ in range(result.failed)]
        ingest = f" (ingest {notifications['ingestId']})" if notifications else ""
        console.print(f"staged {staged} of {len(files)} images into batch {batch_id}{ingest}"
                      + (f"; {len(refused)} refused (see list-ingest-details)" if refused else ""))
        for reason in [r for r in refused if r][:10]:
            err.print(f"  refused: {reason}")


def _notification_config(ingest_id: str | None, url: str | None, categories: list[str]) -> dict[str, Any] | None:
    """What a folder's archives tell ingest in their ``notification_config.json``; None when nothing is asked."""
    unknown = sorted(set(categories) - set(NOTIFICATION_CATEGORIES))
    if unknown:
        err.print(f"[red]unknown --notification-category {', '.join(unknown)}: "
                  f"use {' or '.join(NOTIFICATION_CATEGORIES)}[/]")
        raise typer.Exit(2)
    if categories and not url:
        err.print("[red]--notification-category needs --notifications-url[/]")
        raise typer.Exit(2)
    if not (ingest_id or url):
        return None
    config: dict[str, Any] = {"ingestId": ingest_id or uuid.uuid4().hex}  # as inference-cli names an unnamed one
    if url:
        config["notificationsURL"] = url
    if categories:
        config["notificationCategories"] = categories
    return config


def _simple_uploads(client: Any, batch_id: str, files: list[Path], batch_name: str | None) -> list[str]:
    """One request per image; the refused ones, each with the API's reason."""

    def upload(path: Path) -> str | None:
        try:
            client.upload_image(batch_id, path, batch_name)
        except ApiError as exc:
            if exc.status >= 500:
                raise
            return f"{path.name}: {exc.message}"
        return None

    with Progress(console=console) as progress, ThreadPoolExecutor(8) as pool:
        bar = progress.add_task(f"uploading {len(files)} images", total=len(files))
        refused = []
        for outcome in pool.map(upload, files):
            progress.advance(bar)
            if outcome:
                refused.append(outcome)
    return refused


@staging_app.command("create-batch-of-videos")
def create_batch_of_videos(
    batch_id: str = typer.Option(..., "--batch-id", "-b"),
    videos_dir: Path | None = typer.Option(None, "--videos-dir", "-v"),
    references: str | None = typer.Option(None, "--references", "-r"),
    batch_name: str | None = typer.Option(None, "--batch-name", "-bn"),
    api_key: str | None = ApiKey, api_url: str | None = ApiUrl,
) -> None:
    """Stage videos from a folder (signed-URL uploads) or a references file."""
    with api(api_key, api_url) as client:
        if references:
            source = _read_references(references)
            _ingest_references(client, batch_id, "video", source.get("refs", []), source.get("url"), batch_name,
                               None, None, [])
            console.print("video references accepted; indexing in the background")
            return
        if videos_dir is None:
            err.print("[red]give --videos-dir or --references[/]")
            raise typer.Exit(2)
        files = _files(videos_dir, VIDEO_SUFFIXES)
        with Progress(console=console) as progress:
            bar = progress.add_task(f"uploading {len(files)} videos", total=len(files))
            for path in files:
                client.upload_video(batch_id, path)
                progress.advance(bar)
        console.print(f"staged {len(files)} videos into batch {batch_id}")


@staging_app.command("upload-metadata")
def upload_metadata(batch_id: str = typer.Option(..., "--batch-id", "-b"),
                    part_name: str = typer.Option(..., "--part-name", "-pn"),
                    metadata_file: Path = typer.Option(..., "--metadata-file", "-f",
                                                       help='JSONL of {"fileName": ..., "metadata": {...}}'),
                    api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Per-image metadata for a batch of images; jobs feed it to workflow inputs (--metadata-mapping)."""
    with api(api_key, api_url) as client:
        answer = client.upload_metadata(batch_id, part_name, metadata_file.read_bytes())
    console.print(f"stored metadata of {answer['records']} images as part {part_name} of batch {batch_id}")


@staging_app.command("show-batch-details")
def show_batch_details(batch_id: str = typer.Option(..., "--batch-id", "-b"), api_key: str | None = ApiKey,
                       api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    with api(api_key, api_url) as client:
        batch = client.batch(batch_id)
        if batch["batchType"] == "multipart-batch":
            batch["parts"] = {p["partName"]: client.count(batch_id, p["partName"]) for p in client.parts(batch_id)}
        else:
            batch["count"] = client.count(batch_id)

    def render(b: dict[str, object]) -> None:
        table = Table(show_header=False, title=f"batch {batch_id}")
        for k, v in b.items():
            table.add_row(k, str(v))
        console.print(table)

    emit(batch, as_json, render)


@staging_app.command("list-batches")
def list_batches(pages: int = typer.Option(1, "--pages", "-p"), page_size: int = typer.Option(50, "--page-size"),
                 api_key: str | None = ApiKey, api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    with api(api_key, api_url) as client:
        batches = client.batches(page_size, pages)

    def render(items: list[dict[str, str]]) -> None:
        table = Table("batch id", "name", "type", "content", "created", "expires")
        for b in items:
            table.add_row(b["batchId"], b["displayName"], b["batchType"], b["batchContentType"],
                          b["createdDate"][:19], b["expiryDate"][:19])
        console.print(table)

    emit(batches, as_json, render)


@staging_app.command("list-ingest-details")
def list_ingest_details(batch_id: str = typer.Option(..., "--batch-id", "-b"), api_key: str | None = ApiKey,
                        api_url: str | None = ApiUrl, as_json: bool = JsonOut) -> None:
    with api(api_key, api_url) as client:
        shards = client.shards(batch_id)

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("shard", "status", "files", "failed", "updated")
        for s in items:
            meta = s.get("statusMetadata") or {}
            table.add_row(str(s["shardId"]), f"{s['statusName']} ({s['statusType']})", str(s["shardObjectsCount"]),
                          str(meta.get("failedObjectsCount", 0)), str(s["eventTimestamp"])[:19])
        console.print(table)

    emit(shards, as_json, render)


@staging_app.command("export-batch")
def export_batch(batch_id: str = typer.Option(..., "--batch-id", "-b"),
                 target_dir: Path = typer.Option(..., "--target-dir", "-t"),
                 part_name: list[str] = typer.Option([], "--part-name", "-pn"),
                 api_key: str | None = ApiKey, api_url: str | None = ApiUrl) -> None:
    """Download every file of a batch (output archives are extracted)."""
    with api(api_key, api_url) as client:
        batch = client.batch(batch_id)
        parts: list[str | None] = list(part_name) or ([p["partName"] for p in client.parts(batch_id)]
                              if batch["batchType"] == "multipart-batch" else [None])
        listed = [(part, f) for part in parts for f in client.files(batch_id, part)]
        with Progress(console=console) as progress:
            bar = progress.add_task(f"downloading {len(listed)} files", total=len(listed))

            def fetch(item: tuple[str | None, dict[str, str]]) -> None:
                part, meta = item
                folder = target_dir / part if part else target_dir
                path = client.download(meta["downloadURL"], folder / meta["fileName"])
                if path.name.endswith((".tar.gz", ".tar")):
                    with tarfile.open(path) as tar:
                        tar.extractall(folder, filter="data")
                    path.unlink()
                progress.advance(bar)

            with ThreadPoolExecutor(8) as pool:
                list(pool.map(fetch, listed))
    console.print(f"exported {len(listed)} files of {batch_id} into {target_dir}")
