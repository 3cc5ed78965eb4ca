"""Request and response bodies of the data-staging API, in the camelCase shape inference-cli validates.

Timestamps always carry a timezone; list responses always carry ``nextPageToken`` (null on the last page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.schemas import Camel


class BatchMetadata(Camel):
    batch_id: str
    display_name: str
    batch_type: Literal["simple-batch", "sharded-batch", "multipart-batch"]
    batch_content_type: str
    created_date: datetime
    expiry_date: datetime
    # Conveyor's additions: files staged, and refused while archives and references were indexed
    files_count: int | None = None
    refused_count: int | None = None


class BatchResponse(Camel):
    batch: BatchMetadata


class ListBatchesResponse(Camel):
    batches: list[BatchMetadata]
    next_page_token: str | None = None


class CountResponse(Camel):
    count: int


class FileMetadata(Camel):
    download_url: str = Field(serialization_alias="downloadURL", validation_alias="downloadURL")
    file_name: str
    part_name: str | None = None
    shard_id: str | None = None
    content_type: str
    nested_content_type: str | None = None


class ListFilesResponse(Camel):
    files_metadata: list[FileMetadata]
    next_page_token: str | None = None


class BatchPart(Camel):
    part_name: str
    part_type: str
    content_type: str
    part_description: str | None = None
    nested_content_type: str | None = None


class ListPartsResponse(Camel):
    batch_parts: list[BatchPart]


class ShardDetails(Camel):
    shard_id: str
    status_name: str
    status_type: Literal["info", "success", "error", "warning"]
    event_timestamp: datetime
    shard_objects_count: int
    status_metadata: dict[str, Any] | None = None


class ListShardsResponse(Camel):
    shards: list[ShardDetails]
    next_page_token: str | None = None


class SignedURLDetails(Camel):
    upload_url: str = Field(serialization_alias="uploadURL", validation_alias="uploadURL")
    extension_headers: dict[str, str] = Field(default_factory=dict)
    method: Literal["PUT"] = "PUT"
    max_file_size_bytes: int | None = None
    max_files: int | None = None


class SignedURLResponse(Camel):
    signed_url_details: SignedURLDetails = Field(serialization_alias="signedURLDetails",
                                                 validation_alias="signedURLDetails")


class Reference(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=1024)
    url: str = Field(min_length=1, max_length=8192)


NotificationCategory = Literal["ingest-status", "files-status"]


class _ReferencesIngest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    ingest_id: str | None = Field(None, alias="ingestId", max_length=128)
    notifications_url: str | None = Field(None, alias="notificationsURL", max_length=2048)
    notification_categories: list[NotificationCategory] | None = Field(None, alias="notificationCategories")


class ImageReferencesIngest(_ReferencesIngest):
    references: list[Reference] | None = Field(None, alias="imageReferences", max_length=20_000)
    references_url: str | None = Field(None, alias="imageReferencesURL", max_length=8192)

    @model_validator(mode="after")
    def _one_source(self) -> ImageReferencesIngest:
        _check_one_source(self.references, self.references_url, "imageReferences", "imageReferencesURL")
        return self


class VideoReferencesIngest(_ReferencesIngest):
    references: list[Reference] | None = Field(None, alias="videoReferences", max_length=20_000)
    references_url: str | None = Field(None, alias="videoReferencesURL", max_length=8192)

    @model_validator(mode="after")
    def _one_source(self) -> VideoReferencesIngest:
        _check_one_source(self.references, self.references_url, "videoReferences", "videoReferencesURL")
        return self


def _check_one_source(refs: list[Reference] | None, url: str | None, refs_name: str, url_name: str) -> None:
    if (refs is None) == (url is None):
        raise ValueError(f"give exactly one of {refs_name} (a list of {{name, url}}) or {url_name}")
    if refs is not None and not refs:
        raise ValueError(f"{refs_name} is empty")


class ReferencesIngestResponse(Camel):
    ingest_id: str
    shard_ids: list[str] = Field(default_factory=list)
    duplicated: bool = False
