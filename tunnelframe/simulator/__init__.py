"""The bundled simulator: realistic fleets and a loopback Cloudflare API for demos and tests.

``generate_fleet`` makes a deterministic, realistic fleet as raw API objects;
``generate_history`` evolves one over simulated days as snapshots; ``LivingFleet`` keeps one
changing on a simulated clock while it is served, and records every change. Nothing in this
package talks to the real Cloudflare API.
"""

from __future__ import annotations

from tunnelframe.simulator._generator import DEFAULT_AS_OF, generate_fleet
from tunnelframe.simulator._history import generate_history
from tunnelframe.simulator._living import Change, LivingFleet, SimClock
from tunnelframe.simulator._server import Faults, SimulatedApi, serve, simulate

__all__ = [
    "DEFAULT_AS_OF",
    "Change",
    "Faults",
    "LivingFleet",
    "SimClock",
    "SimulatedApi",
    "generate_fleet",
    "generate_history",
    "serve",
    "simulate",
]
