"""``python -m conveyor_client``: the API commands alone, where only the client is installed."""

from conveyor_client import api_commands

api_commands()()
