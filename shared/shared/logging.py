"""JSON logs on stdout, each line carrying the request id of the request or event it serves."""

import logging
import sys

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter

from shared.settings import PlatformSettings


def configure_logging(settings: PlatformSettings) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.set_name("agora")
    handler.addFilter(CorrelationIdFilter(name="request_id", uuid_length=None, default_value=None))
    if settings.log_json:
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={
                    "asctime": "time",
                    "levelname": "level",
                    "correlation_id": "request_id",
                },
                static_fields={"service": settings.service_name},
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "agora"] + [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if name == "uvicorn.access" and not logger.propagate and not logger.handlers:
            continue  # turned off with --no-access-log
        logger.handlers = []
        logger.propagate = True
    # aiokafka logs every failed connection attempt; the relay and consumer report them once.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
