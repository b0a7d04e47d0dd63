"""tunnelframe: a fleet of Cloudflare Tunnel connectors as typed pandas DataFrames.

Fetch connector data from the Cloudflare API (or the bundled simulator), flatten it into one row
per connection, analyse version drift and colo distribution, and plot or report the result.
"""

from __future__ import annotations

__version__ = "0.1.0"

from tunnelframe import simulator
from tunnelframe._errors import (
    ApiError,
    AuthError,
    NotFoundError,
    RateLimitError,
    SchemaError,
    TunnelframeError,
)
from tunnelframe.datasets import load_sample

__all__ = [
    "ApiError",
    "AuthError",
    "NotFoundError",
    "RateLimitError",
    "SchemaError",
    "TunnelframeError",
    "__version__",
    "load_sample",
    "simulator",
]
