"""Python client for modelmon: non-blocking event logging and an ASGI middleware.

    from modelmon_client import Client
    client = Client('http://127.0.0.1:8080')
    client.log_prediction('credit_risk', 'req-1', {'amount': 12.5}, prediction=1, score=0.91)
    client.log_ground_truth('credit_risk', 'req-1', label=1)

Standard library only. See README.md beside this package.
"""

from .asgi import ModelmonMiddleware
from .client import VERSION as __version__
from .client import Client

__all__ = ['Client', 'ModelmonMiddleware', '__version__']
