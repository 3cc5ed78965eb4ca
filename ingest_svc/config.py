"""Settings of ingest_svc (environment prefix ``INGEST_``)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from ingest_svc.packing import PACK_BYTES
from shared.config import DEFAULT_PORTS, ServiceSettings
from shared.netsafe import host_port

MIN_SECRET_LENGTH = 24
# values published in this repository's history and manifests: never secrets
KNOWN_SECRETS = frozenset({"conveyor-dev-signing-secret"})


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", populate_by_name=True)

    port: int = DEFAULT_PORTS["ingest"]
    max_tar_bytes: int = 4 * 1024**3  # a 500-image tar of large photos stays far below this
    max_tar_images: int = 500
    # failed-file records kept per shard: past it, one record says how many more were refused (an archive of
    # 100,000 empty members must not write 100,000 rows); the shard's failure count stays exact
    max_failed_records: int = Field(1000, ge=2)
    max_video_bytes: int = 20 * 1024**3
    references_per_shard: int = 1000
    indexer_concurrency: int = 2  # archives indexed at once by this process
    # reference shards (downloads from elsewhere) fetched at once by this process, besides archives; of them a
    # workspace holds at most reference_slots_per_workspace (across every process), so another tenant's
    # references always find a slot while one tenant's slow servers trickle
    reference_indexer_concurrency: int = 4
    reference_slots_per_workspace: int = Field(2, ge=1)
    # a reference shard's downloads end this long after it was claimed: the ones not fetched by then are failed
    # files with the reason, and the slot is free again (each download also has fetch_timeout_s)
    reference_shard_deadline_s: float = 900.0
    indexer_lease_s: float = 300.0  # a crashed indexer's shard is taken over after this
    indexer_max_attempts: int = 3
    fetch_concurrency: int = 8  # reference downloads at once, per shard
    # fetched and decompressed images are written to S3 together, a pack of about this many bytes per object
    pack_bytes: int = Field(PACK_BYTES, ge=1)
    fetch_timeout_s: float = 60.0  # one reference download in all (a file of references, or one image)
    # host:port pairs that reference URLs may target although not public (e.g. an internal mirror)
    allowed_fetch_hosts: list[str] = Field(default_factory=list)
    link_ttl_s: int = 6 * 3600  # validity of upload and download links
    expiry_sweep_interval_s: float = 300.0
    # how often ingests still waiting for their ingest-status webhook are checked again (an unused upload
    # link that expired no longer holds them)
    ingest_sweep_interval_s: float = 2.0
    # an ingest of archives is complete only once no archive link was handed out in its batch for this long:
    # a client uploading a folder packs each tar before it asks for its link
    ingest_settle_s: float = 10.0

    @model_validator(mode="after")
    def _signing_secret_is_set(self) -> IngestSettings:
        secret = self.signing_secret or ""
        if len(secret) < MIN_SECRET_LENGTH or secret in KNOWN_SECRETS or secret.startswith("change-me"):
            raise ValueError(f"CONVEYOR_SIGNING_SECRET must be a random string of at least {MIN_SECRET_LENGTH} "
                             "characters (it signs upload and download links; `conveyor up` makes one per "
                             "installation, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return self

    @property
    def link_secret(self) -> str:
        """The signing secret, checked at start."""
        assert self.signing_secret is not None
        return self.signing_secret

    def fetch_allowlist(self) -> frozenset[str]:
        """Explicitly allowed hosts plus our own S3 endpoint (presigned links to staged objects)."""
        own = {host_port(self.s3.endpoint_url)} if self.s3.endpoint_url else set()
        return frozenset({*self.allowed_fetch_hosts, *own})
