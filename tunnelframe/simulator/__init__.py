"""The bundled simulator: realistic fleets and a loopback Cloudflare API for demos and tests.

``generate_fleet`` makes a deterministic, realistic fleet as raw API objects;
``generate_history`` evolves one over simulated days as snapshots. Nothing in this
package talks to the real Cloudflare API.
"""

from __future__ import annotations

from tunnelframe.simulator._generator import DEFAULT_AS_OF, generate_fleet
from tunnelframe.simulator._history import generate_history
from tunnelframe.simulator._server import Faults, SimulatedApi, serve, simulate

__all__ = [
    "DEFAULT_AS_OF",
    "Faults",
    "SimulatedApi",
    "generate_fleet",
    "generate_history",
    "serve",
    "simulate",
]
