"""``python -m worker_svc``: one worker process, configured by the environment (see the README's settings)."""

from shared.runtime import serve
from worker_svc.app import create_app
from worker_svc.config import WorkerSettings

if __name__ == "__main__":
    serve("worker", WorkerSettings(), create_app)
