"""``python -m notifier_svc``: one notifier process, configured by the environment (see the README's settings)."""

from notifier_svc.app import create_app
from notifier_svc.config import NotifierSettings
from shared.runtime import serve

if __name__ == "__main__":
    serve("notifier", NotifierSettings(), create_app)
