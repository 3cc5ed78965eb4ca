"""The documentation site: its build (``python -m deploy.docs.build``), the MkDocs hook that adds the pages made
from code, and the assets it serves itself."""
