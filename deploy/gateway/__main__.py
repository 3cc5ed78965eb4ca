"""``python -m deploy.gateway``: the gateway (API routing and the web UI), configured by the environment."""

import uvicorn

from deploy.gateway.app import Upstreams, create_gateway
from deploy.gateway.config import GatewaySettings
from shared.logs import configure_logging

if __name__ == "__main__":
    settings = GatewaySettings()
    configure_logging("gateway", settings.logs)
    app = create_gateway(Upstreams.of(settings), metrics_token=settings.metrics_token)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.logs.level, access_log=False,
                log_config=None)
