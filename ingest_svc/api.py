"""HTTP routes of data staging (``/data-staging/v1/external/{workspace}/...``), workspace discovery and
the signed upload/download links. Each route opens the transaction, calls the service, returns."""

from __future__ import annotations

from urllib.parse import quote

from botocore.exceptions import ClientError
from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from ingest_svc.repository import IngestStore, Shard
from ingest_svc.schemas import (
    BatchMetadata,
    BatchPart,
    BatchResponse,
    CountResponse,
    FileMetadata,
    ImageReferencesIngest,
    ListBatchesResponse,
    ListFilesResponse,
    ListPartsResponse,
    ListShardsResponse,
    ReferencesIngestResponse,
    ShardDetails,
    SignedURLResponse,
    VideoReferencesIngest,
)
from ingest_svc.service import DOWNLOAD, UPLOAD, StagingService, Upload
from ingest_svc.signing import verify
from shared.auth import Workspace, current_workspace, workspace_from_path
from shared.db import Record, transaction
from shared.errors import InvalidInput, NotFound, NotSupported, TooLarge
from shared.ids import validate_batch_id
from shared.pagination import decode_token, encode_token, integer, page_size, text, timestamp
from shared.runtime import Resources
from shared.staging import Batch, member_range

discovery = APIRouter()
staging = APIRouter(prefix="/data-staging/v1/external/{workspace}", tags=["data-staging"])
links = APIRouter(prefix="/files", tags=["signed links"])

MAX_SIMPLE_UPLOAD = 20 * 1024 * 1024


def _optional_text(value: object) -> str | None:
    return None if value is None else text(value)


def service(request: Request) -> StagingService:
    resources: Resources[StagingService] = request.app.state.resources
    return resources.deps


@discovery.get("/")
async def whoami(ws: Workspace = Depends(current_workspace)) -> dict[str, str]:
    """Workspace discovery: Roboflow clients call ``GET {API_BASE_URL}?api_key=...`` first. ``workspaceId`` is the
    id the workspace's events carry (``workspace_id``) and are keyed by (``<workspaceId>/<job or batch id>``)."""
    return {"workspace": ws.slug, "workspaceId": ws.id, "welcome": "Welcome to Conveyor",
            "instructions": "Use this workspace slug in API paths; its events on Kafka carry workspaceId."}


def _batch(b: Batch, counts: dict[str, tuple[int, int]]) -> BatchMetadata:
    files, refused = counts.get(b.batch_id, (None, None))
    return BatchMetadata(batch_id=b.batch_id, display_name=b.display_name, batch_type=b.batch_type,
                         batch_content_type=b.content_type, created_date=b.created_at, expiry_date=b.expires_at,
                         files_count=files, refused_count=refused)


@staging.get("/batches", response_model=ListBatchesResponse)
async def list_batches(request: Request, ws: Workspace = Depends(workspace_from_path),
                       pageSize: int | None = None, nextPageToken: str | None = None) -> ListBatchesResponse:
    limit = page_size(pageSize, 50)
    cursor = decode_token(nextPageToken, "batches", c=timestamp, b=text)
    after = (cursor["c"], cursor["b"]) if cursor else None
    async with request.app.state.pool.acquire() as conn:
        repo = IngestStore(conn)
        batches = await repo.list_batches(ws.id, limit + 1, after)
        counts = await repo.file_counts(ws.id, [b.batch_id for b in batches[:limit]])
    token = None
    if len(batches) > limit:
        last = batches[limit - 1]
        token = encode_token("batches", {"c": last.created_at.isoformat(), "b": last.batch_id})
    return ListBatchesResponse(batches=[_batch(b, counts) for b in batches[:limit]], next_page_token=token)


@staging.get("/batches/{batch_id}", response_model=BatchResponse)
async def batch_details(request: Request, batch_id: str, ws: Workspace = Depends(workspace_from_path)) -> BatchResponse:
    async with request.app.state.pool.acquire() as conn:
        repo = IngestStore(conn)
        batch = await service(request).get_batch(repo, ws.id, batch_id)
        counts = await repo.file_counts(ws.id, [batch_id])
    return BatchResponse(batch=_batch(batch, counts))


@staging.get("/batches/{batch_id}/count", response_model=CountResponse)
async def count_files(request: Request, batch_id: str, ws: Workspace = Depends(workspace_from_path),
                      partName: str | None = None) -> CountResponse:
    async with request.app.state.pool.acquire() as conn:
        repo = IngestStore(conn)
        await service(request).get_batch(repo, ws.id, batch_id)
        return CountResponse(count=await repo.count_files(ws.id, batch_id, partName))


async def _files_page(request: Request, ws: Workspace, batch_id: str, listing: str, page: int | None,
                      token: str | None, part: str | None) -> tuple[list[Record], str | None]:
    """One page of a batch's files in staging order, and the token of the next (bound to listing and part)."""
    limit = page_size(page, 1000)
    cursor = decode_token(token, listing, s=integer, p=_optional_text) or {"s": 0, "p": part}
    if cursor["p"] != part:
        raise InvalidInput("invalid nextPageToken: it belongs to a listing of another partName")
    async with request.app.state.pool.acquire() as conn:
        repo = IngestStore(conn)
        await service(request).get_batch(repo, ws.id, batch_id)
        rows = await repo.list_files(ws.id, batch_id, part, limit + 1, cursor["s"])
    following = encode_token(listing, {"s": rows[limit - 1]["seq"], "p": part}) if len(rows) > limit else None
    return rows[:limit], following


def _link(svc: StagingService, r: Record) -> str:
    return svc.download_link(r["object_key"], r["file_name"], r["content_type"],
                             member_range(r["byte_offset"], r["size_bytes"]))


@staging.get("/batches/{batch_id}/list", response_model=ListFilesResponse)
async def list_files(request: Request, batch_id: str, ws: Workspace = Depends(workspace_from_path),
                     pageSize: int | None = None, nextPageToken: str | None = None,
                     partName: str | None = None) -> ListFilesResponse:
    rows, token = await _files_page(request, ws, batch_id, "files", pageSize, nextPageToken, partName)
    svc = service(request)
    files = [FileMetadata(download_url=_link(svc, r), file_name=r["file_name"], part_name=r["part_name"] or None,
                          shard_id=r["shard_id"], content_type=r["content_type"],
                          nested_content_type=r["nested_content_type"]) for r in rows]
    return ListFilesResponse(files_metadata=files, next_page_token=token)


@staging.get("/batches/{batch_id}/export")
async def export_batch(request: Request, batch_id: str, ws: Workspace = Depends(workspace_from_path),
                       pageSize: int | None = None, nextPageToken: str | None = None,
                       partName: str | None = None) -> dict[str, object]:
    """Download links of a batch's files, a page at a time (Roboflow's ``BatchExportResponse``): for a job's
    export batch, its result archives."""
    rows, token = await _files_page(request, ws, batch_id, "export", pageSize, nextPageToken, partName)
    svc = service(request)
    return {"urls": [_link(svc, r) for r in rows], "nextPageToken": token}


@staging.post("/batches/{batch_id}/roboql-ingest")
async def roboql_ingest(batch_id: str, ws: Workspace = Depends(workspace_from_path)) -> None:
    raise NotSupported("RoboQL ingest (staging images selected from a Roboflow workspace by query) is not "
                       "supported by Conveyor, which holds no Roboflow projects: stage the files from a folder, "
                       "a references file or cloud storage (data-source local-directory, references-file or "
                       "cloud-storage)")


@staging.get("/batches/{batch_id}/parts", response_model=ListPartsResponse)
async def list_parts(request: Request, batch_id: str,
                     ws: Workspace = Depends(workspace_from_path)) -> ListPartsResponse:
    async with request.app.state.pool.acquire() as conn:
        repo = IngestStore(conn)
        await service(request).get_batch(repo, ws.id, batch_id)
        rows = await repo.list_parts(ws.id, batch_id)
    return ListPartsResponse(batch_parts=[
        BatchPart(part_name=r["part_name"], part_type=r["part_type"], content_type=r["content_type"],
                  part_description=r["description"], nested_content_type=r["nested_content_type"]) for r in rows])


_SHARD_STATUS = {"awaiting-upload": ("awaiting-upload", "info"), "uploaded": ("queued-for-indexing", "info"),
                 "indexing": ("indexing", "info"), "indexed": ("indexed", "success"), "failed": ("failed", "error")}


def _shard(s: Shard) -> ShardDetails:
    name, status_type = _SHARD_STATUS[s.status]
    if s.status == "indexed" and s.failed_count:
        name, status_type = "indexed-with-failures", "warning"
    meta: dict[str, object] = {"kind": s.kind, "ingestId": s.ingest_id, "failedObjectsCount": s.failed_count}
    if s.error:
        meta["error"] = s.error
    return ShardDetails(shard_id=s.shard_id, status_name=name, status_type=status_type,
                        event_timestamp=s.updated_at, shard_objects_count=s.objects_count, status_metadata=meta)


@staging.get("/batches/{batch_id}/shards", response_model=ListShardsResponse)
async def list_shards(request: Request, batch_id: str, ws: Workspace = Depends(workspace_from_path),
                      pageSize: int | None = None, nextPageToken: str | None = None) -> ListShardsResponse:
    limit = page_size(pageSize, 100)
    cursor = decode_token(nextPageToken, "shards", a=text)
    async with request.app.state.pool.acquire() as conn:
        repo = IngestStore(conn)
        await service(request).get_batch(repo, ws.id, batch_id)
        shards = await repo.list_shards(ws.id, batch_id, limit + 1, cursor["a"] if cursor else None)
    token = encode_token("shards", {"a": shards[limit - 1].shard_id}) if len(shards) > limit else None
    return ListShardsResponse(shards=[_shard(s) for s in shards[:limit]], next_page_token=token)


@staging.get("/batches/{batch_id}/shards/{shard_id}/failed-files")
async def failed_files(request: Request, batch_id: str, shard_id: str, ws: Workspace = Depends(workspace_from_path),
                       pageSize: int | None = None) -> dict[str, object]:
    """The files of one ingest shard that were refused, with the reason (a Conveyor extension)."""
    async with request.app.state.pool.acquire() as conn:
        repo = IngestStore(conn)
        await service(request).get_batch(repo, ws.id, batch_id)
        rows = await repo.failed_files(ws.id, batch_id, shard_id, page_size(pageSize, 1000))
    return {"failedFiles": [{"fileName": r["file_name"], "type": r["failure_type"], "reason": r["reason"]}
                            for r in rows]}


@staging.post("/batches/{batch_id}/upload/image")
async def upload_image(request: Request, batch_id: str, ws: Workspace = Depends(workspace_from_path),
                       fileName: str | None = None, displayName: str | None = None) -> dict[str, object]:
    validate_batch_id(batch_id)
    form = await request.form(max_files=1)
    uploads = [v for v in form.values() if isinstance(v, UploadFile) or hasattr(v, "read")]
    if not uploads:
        raise InvalidInput("send the image as one multipart/form-data file part")
    upload = uploads[0]
    data = await upload.read(MAX_SIMPLE_UPLOAD + 1)
    name = fileName or getattr(upload, "filename", None) or ""
    if len(data) > MAX_SIMPLE_UPLOAD:
        raise TooLarge(f"file-size-limit-exceeded: {name} is larger than 20 MiB")
    async with transaction(request.app.state.pool) as conn:
        created = await service(request).upload_image(conn, ws.id, batch_id, displayName, name, data)
    return {"status": "ok", "fileName": name, "duplicated": not created}


@staging.post("/batches/{batch_id}/upload/metadata")
async def upload_metadata(request: Request, batch_id: str, partName: str,
                          ws: Workspace = Depends(workspace_from_path)) -> dict[str, object]:
    """Per-image metadata as a metadata part of an images batch (a Conveyor extension): a JSONL body of
    ``{"fileName": ..., "metadata": {...}}`` lines. Jobs name the part in ``jobInput.imagesMetadataPart``."""
    data = await request.body()  # at most MAX_BODY_BYTES (32 MiB): larger metadata goes in several uploads
    async with transaction(request.app.state.pool) as conn:
        stored = await service(request).upload_metadata(conn, ws.id, batch_id, partName, data)
    return {"status": "ok", "partName": partName, "records": stored}


@staging.post("/batches/{batch_id}/upload/video", response_model=SignedURLResponse, response_model_by_alias=True)
async def request_video_upload(request: Request, batch_id: str, fileName: str,
                               ws: Workspace = Depends(workspace_from_path),
                               displayName: str | None = None) -> SignedURLResponse:
    async with transaction(request.app.state.pool) as conn:
        details = await service(request).request_video_upload(conn, ws.id, batch_id, displayName, fileName)
    return SignedURLResponse(signed_url_details=details)


@staging.post("/batches/{batch_id}/bulk-upload/image-files", response_model=SignedURLResponse)
async def request_tar_upload(request: Request, batch_id: str, ws: Workspace = Depends(workspace_from_path),
                             displayName: str | None = None) -> SignedURLResponse:
    async with transaction(request.app.state.pool) as conn:
        details = await service(request).request_tar_upload(conn, ws.id, batch_id, displayName)
    return SignedURLResponse(signed_url_details=details)


@staging.post("/batches/{batch_id}/bulk-upload/image-references", response_model=ReferencesIngestResponse)
async def ingest_image_references(request: Request, batch_id: str, body: ImageReferencesIngest,
                                  ws: Workspace = Depends(workspace_from_path),
                                  displayName: str | None = None) -> ReferencesIngestResponse:
    async with transaction(request.app.state.pool) as conn:
        return await service(request).ingest_references(conn, ws.id, batch_id, displayName, body)


@staging.post("/batches/{batch_id}/bulk-upload/video-references", response_model=ReferencesIngestResponse)
async def ingest_video_references(request: Request, batch_id: str, body: VideoReferencesIngest,
                                  ws: Workspace = Depends(workspace_from_path),
                                  displayName: str | None = None) -> ReferencesIngestResponse:
    async with transaction(request.app.state.pool) as conn:
        return await service(request).ingest_references(conn, ws.id, batch_id, displayName, body)


@links.put("/upload/{token}")
async def receive_upload(request: Request, token: str) -> JSONResponse:
    """Signed upload target (no API key): a tar of images or one video, streamed into storage."""
    svc = service(request)
    claims = verify(svc.settings.link_secret, token, kind=UPLOAD)
    upload = Upload(claims["ws"], claims["b"], claims["s"])
    async with request.app.state.pool.acquire() as conn:
        shard = await svc.pending_upload(conn, upload)
    key, size = await svc.receive_upload(shard, request.stream())
    async with transaction(request.app.state.pool) as conn:
        await svc.complete_upload(conn, shard, key, size)
    return JSONResponse({"status": "ok", "sizeBytes": size})


@links.get("/download/{token}")
async def download(request: Request, token: str) -> StreamingResponse:
    """Signed download link (no API key) of one staged or exported file."""
    svc = service(request)
    claims = verify(svc.settings.link_secret, token, kind=DOWNLOAD)
    try:
        head = await svc.store.client.head_object(Bucket=svc.settings.s3.staging_bucket, Key=claims["k"])
    except ClientError:
        raise NotFound("this file no longer exists (staged data expires after 7 days)") from None
    byte_range = tuple(claims["r"]) if claims.get("r") else None  # a file kept inside its uploaded archive
    size = byte_range[1] - byte_range[0] if byte_range else head["ContentLength"]
    return StreamingResponse(svc.store.iter_object(claims["k"], byte_range=byte_range), media_type=claims.get("ct"),
                             headers={"Content-Length": str(size),
                                      "Content-Disposition": content_disposition(claims["n"])})


def content_disposition(name: str) -> str:
    """``attachment`` with the file's name: an ASCII fallback, and the exact UTF-8 name (RFC 6266/5987)."""
    name = name.rsplit("/", 1)[-1]
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name) or "file"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
