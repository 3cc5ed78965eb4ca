"""``python -m scheduler_svc``: one scheduler process, configured by the environment (see the README's settings)."""

from scheduler_svc.app import create_app
from scheduler_svc.config import SchedulerSettings
from shared.runtime import serve

if __name__ == "__main__":
    serve("scheduler", SchedulerSettings(), create_app)
