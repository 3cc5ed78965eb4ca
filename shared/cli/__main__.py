"""``python -m shared.cli``: the API and workspace commands alone, for an image without the local tooling."""

from shared.cli import api_commands

api_commands()()
