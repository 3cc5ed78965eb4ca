"""``python -m export_svc``: one export process, configured by the environment (see the README's settings)."""

from export_svc.app import create_app
from export_svc.config import ExportSettings
from shared.runtime import serve

if __name__ == "__main__":
    serve("export", ExportSettings(), create_app)
