"""``python -m ingest_svc``: one ingest process, configured by the environment (see the README's settings)."""

from ingest_svc.app import create_app
from ingest_svc.config import IngestSettings
from shared.runtime import serve

if __name__ == "__main__":
    serve("ingest", IngestSettings(), create_app)
