"""``python -m deploy.gateway``: the gateway (API routing and the web UI), configured by the environment."""

import uvicorn

from deploy.gateway.app import Upstreams, create_gateway
from deploy.gateway.config import GatewaySettings
from shared.logs import configure_logging
from shared.tracing import configure_tracing

if __name__ == "__main__":
    settings = GatewaySettings()
    configure_logging("gateway", settings.logs)
    traced = configure_tracing("gateway", settings.otel_endpoint, settings.otel_service_name)
    app = create_gateway(Upstreams.of(settings), metrics_token=settings.metrics_token, traced=traced,
                         docs_dir=settings.docs_dir)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.logs.level, access_log=False,
                log_config=None)
