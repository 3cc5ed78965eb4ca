"""S3 access (aioboto3): bucket layout, presigned URLs and streaming multipart uploads.

Layout of the staging bucket (every object there expires after ``staging_expiry``, by lifecycle rule):

    batches/<workspace_id>/<batch_id>/<part or "_">/[<digest>/]<file name>   staged and output files
    uploads/<workspace_id>/<batch_id>/<upload id>-<attempt>.tar    uploaded tars (a plain tar's images are
                                                                   read from it in place, by byte range)

The models bucket holds ONNX models and never expires. The client is opened at startup (``start``)
and closed at shutdown, never at import.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aioboto3
import aiohttp
import botocore.session
import yarl
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from shared.config import S3Settings
from shared.errors import TransientError

MULTIPART_CHUNK = 8 * 1024 * 1024  # bytes; S3 parts must be at least 5 MiB except the last


def batch_prefix(workspace_id: str, batch_id: str) -> str:
    return f"batches/{workspace_id}/{batch_id}/"


def file_key(workspace_id: str, batch_id: str, part_name: str | None, file_name: str, unique: str = "") -> str:
    """Object key of a staged file; ``unique`` (a content digest or upload id) keeps racing writers apart."""
    middle = f"{unique}/" if unique else ""
    return f"{batch_prefix(workspace_id, batch_id)}{part_name or '_'}/{middle}{file_name}"


def shared_ref_key(model_id: str) -> str:
    """Key (in the models bucket) of the reference of a model registered for every workspace: the scheduler's
    registry writes it, workers read it to preload the model (``shared.events.ModelRef`` as JSON)."""
    return f"shared/{model_id}/ref.json"


def _range_header(byte_range: tuple[int, int] | None) -> dict[str, str]:
    """HTTP's Range for the bytes ``[start, end)`` (its end is inclusive); nothing for the whole object."""
    return {"Range": f"bytes={byte_range[0]}-{byte_range[1] - 1}"} if byte_range else {}


class ObjectMissing(Exception):
    """The object does not exist (expired, deleted or never written)."""


def _signing_credentials(settings: S3Settings) -> Credentials:
    """The keys small-object requests are presigned with: the configured ones, else the AWS chain's (frozen
    at start: a deployment on expiring role credentials sets keys, or restarts within their lifetime)."""
    if settings.access_key_id and settings.secret_access_key:
        return Credentials(settings.access_key_id, settings.secret_access_key)
    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise RuntimeError("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    frozen = found.get_frozen_credentials()
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token)


class ObjectStore:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        self._http: aiohttp.ClientSession | None = None
        self._credentials = _signing_credentials(settings)

    @property
    def client(self) -> Any:
        if self._client is None:
            raise RuntimeError("ObjectStore.start() was not awaited")
        return self._client

    async def start(self) -> None:
        session = aioboto3.Session(
            aws_access_key_id=self.settings.access_key_id,
            aws_secret_access_key=self.settings.secret_access_key,
            region_name=self.settings.region,
        )
        config = Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                        retries={"max_attempts": 5, "mode": "standard"}, max_pool_connections=32)
        self._client = await self._stack.enter_async_context(
            session.client("s3", endpoint_url=self.settings.endpoint_url, config=config)
        )
        self._http = await self._stack.enter_async_context(aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=32), timeout=aiohttp.ClientTimeout(total=120)))

    async def close(self) -> None:
        await self._stack.aclose()
        self._client = None
        self._http = None

    async def ensure_buckets(self) -> None:
        for bucket in (self.settings.staging_bucket, self.settings.models_bucket):
            try:
                await self.client.create_bucket(Bucket=bucket)
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise
        days = max(1, int(self.settings.staging_expiry.total_seconds() // 86_400))
        await self.client.put_bucket_lifecycle_configuration(
            Bucket=self.settings.staging_bucket,
            LifecycleConfiguration={"Rules": [
                {"ID": "staging-expiry", "Status": "Enabled", "Filter": {"Prefix": ""},
                 "Expiration": {"Days": days},
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}},
            ]},
        )

    async def put_bytes(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
                        bucket: str | None = None) -> None:
        await self.client.put_object(Bucket=bucket or self.settings.staging_bucket, Key=key, Body=data,
                                     ContentType=content_type)

    async def get_bytes(self, key: str, *, bucket: str | None = None) -> bytes:
        resp = await self.client.get_object(Bucket=bucket or self.settings.staging_bucket, Key=key)
        async with resp["Body"] as body:
            return await body.read()

    async def fetch(self, key: str, *, bucket: str | None = None, attempts: int = 5,
                    byte_range: tuple[int, int] | None = None) -> bytes:
        """A small object, or the bytes ``[start, end)`` of one, read through a presigned URL: half the CPU of
        ``get_bytes`` per request (botocore's request pipeline is skipped; bench/README.md has the figures), which
        is what bounds an event loop handling many small files. Raises ``ObjectMissing``; connection errors
        and 5xx are retried, then raised as ``TransientError``."""
        return await self._direct("get_object", key, bucket, attempts, byte_range=byte_range)

    async def put_small(self, key: str, data: bytes, *, content_type: str = "application/octet-stream",
                        bucket: str | None = None, attempts: int = 5) -> None:
        """``put_bytes`` through a presigned URL, for the same reason and with the same retries as ``fetch``."""
        await self._direct("put_object", key, bucket, attempts, data=data, content_type=content_type)

    async def _direct(self, operation: str, key: str, bucket: str | None, attempts: int, *,
                      data: bytes | None = None, content_type: str | None = None,
                      byte_range: tuple[int, int] | None = None) -> bytes:
        if self._http is None:
            raise RuntimeError("ObjectStore.start() was not awaited")
        method = "GET" if operation == "get_object" else "PUT"
        headers = {"Content-Type": content_type} if content_type else {}
        url = await self._presign(operation, method, bucket or self.settings.staging_bucket, key, headers)
        sent = {**headers, **_range_header(byte_range)}  # Range is not signed: only what _presign saw is
        for attempt in range(attempts):
            try:
                async with self._http.request(method, url, data=data, headers=sent) as resp:
                    if resp.status == 206 or (resp.status == 200 and byte_range is None):
                        return await resp.read()
                    if resp.status == 200 and byte_range is not None:  # a server ignoring Range sends it all
                        return (await resp.read())[byte_range[0]:byte_range[1]]
                    if resp.status == 416 and byte_range is not None:
                        return b""  # the object ends before the range starts: none of its bytes exist
                    body = await resp.text()
                    if resp.status == 404 and "<Code>NoSuchKey</Code>" in body:
                        raise ObjectMissing(key)
                    problem = f"HTTP {resp.status}: {body[:300]}"
                    if resp.status < 500:
                        raise RuntimeError(f"S3 refused {method} {key}: {problem}")
            except aiohttp.ClientError as exc:
                problem = repr(exc)
            await asyncio.sleep(min(2.0, 0.1 * 2 ** attempt))
        raise TransientError(f"S3 {method} {key} failed {attempts} times: {problem}")

    async def _presign(self, operation: str, method: str, bucket: str, key: str, headers: dict[str, str]) -> yarl.URL:
        """A path-style SigV4 query-signed URL from botocore's own signer, without the client's endpoint
        resolution (most of ``generate_presigned_url``'s cost: 0.3 against 1 ms); with no endpoint (AWS
        itself), the client's full presigning."""
        if self.settings.endpoint_url is None:
            params = {"Bucket": bucket, "Key": key}
            if "Content-Type" in headers:
                params["ContentType"] = headers["Content-Type"]
            return yarl.URL(await self.client.generate_presigned_url(operation, Params=params, ExpiresIn=900),
                            encoded=True)
        url = f"{self.settings.endpoint_url.rstrip('/')}/{bucket}/{quote(key, safe='/~')}"
        request = AWSRequest(method=method, url=url, headers=dict(headers))
        S3SigV4QueryAuth(self._credentials, "s3", self.settings.region, expires=900).add_auth(request)
        return yarl.URL(request.url, encoded=True)  # as signed: aiohttp must not re-quote it

    async def iter_object(self, key: str, *, bucket: str | None = None, chunk: int = 1024 * 1024,
                          byte_range: tuple[int, int] | None = None) -> AsyncIterator[bytes]:
        """The object (or its bytes ``[start, end)``) in chunks."""
        resp = await self.client.get_object(Bucket=bucket or self.settings.staging_bucket, Key=key,
                                            **_range_header(byte_range))
        body = resp["Body"]
        try:
            async for data in body.iter_chunks(chunk):
                yield data
        finally:
            body.close()

    async def exists(self, key: str, *, bucket: str | None = None) -> bool:
        try:
            await self.client.head_object(Bucket=bucket or self.settings.staging_bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *,
                         content_type: str = "application/octet-stream", bucket: str | None = None) -> int:
        """Upload a stream of unknown length in multipart chunks; returns the byte count."""
        bucket = bucket or self.settings.staging_bucket
        buffer = bytearray()
        total = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                buffer += chunk
                total += len(chunk)
                while len(buffer) >= MULTIPART_CHUNK:
                    if upload_id is None:
                        created = await self.client.create_multipart_upload(
                            Bucket=bucket, Key=key, ContentType=content_type)
                        upload_id = created["UploadId"]
                    piece, buffer = bytes(buffer[:MULTIPART_CHUNK]), buffer[MULTIPART_CHUNK:]
                    part = await self.client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                                         PartNumber=len(parts) + 1, Body=piece)
                    parts.append({"ETag": part["ETag"], "PartNumber": len(parts) + 1})
            if upload_id is None:
                await self.client.put_object(Bucket=bucket, Key=key, Body=bytes(buffer), ContentType=content_type)
                return total
            if buffer or not parts:
                part = await self.client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id,
                                                     PartNumber=len(parts) + 1, Body=bytes(buffer))
                parts.append({"ETag": part["ETag"], "PartNumber": len(parts) + 1})
            await self.client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                                        MultipartUpload={"Parts": parts})
            return total
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await self.client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            raise

    async def list_keys(self, prefix: str, *, bucket: str | None = None) -> AsyncIterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=bucket or self.settings.staging_bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    async def delete_prefix(self, prefix: str, *, bucket: str | None = None) -> int:
        bucket = bucket or self.settings.staging_bucket
        batch: list[dict[str, str]] = []
        deleted = 0
        async for key in self.list_keys(prefix, bucket=bucket):
            batch.append({"Key": key})
            if len(batch) == 1000:
                await self.client.delete_objects(Bucket=bucket, Delete={"Objects": batch})
                deleted, batch = deleted + len(batch), []
        if batch:
            await self.client.delete_objects(Bucket=bucket, Delete={"Objects": batch})
            deleted += len(batch)
        return deleted

    async def presign_get(self, key: str, *, bucket: str | None = None, filename: str | None = None,
                          expires_s: int | None = None) -> str:
        params: dict[str, Any] = {"Bucket": bucket or self.settings.staging_bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        return await self.client.generate_presigned_url(
            "get_object", Params=params,
            ExpiresIn=expires_s or int(self.settings.presign_expiry.total_seconds()))

    async def presign_put(self, key: str, *, bucket: str | None = None, expires_s: int | None = None) -> str:
        return await self.client.generate_presigned_url(
            "put_object", Params={"Bucket": bucket or self.settings.staging_bucket, "Key": key},
            ExpiresIn=expires_s or int(self.settings.presign_expiry.total_seconds()))
