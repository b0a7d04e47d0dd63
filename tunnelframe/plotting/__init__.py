"""Plots of a fleet: versions, version drift, colos, a colo map, tunnels × colos, connection ages,
and of its history: a version rollout and an HA timeline.

Every ``plot_*`` function of a fleet takes a connections frame
(:func:`tunnelframe.connections_frame`) first (a history plot: the frame its history query
returns), computes what it shows with the analysis functions of :mod:`tunnelframe.versions` and
:mod:`tunnelframe.colos` (never its own version of their rules), draws on ``ax`` (default the
current Axes), passes ``**kwargs`` to one named matplotlib call and returns the Axes. Large
fleets are cut to the top N with an "other" bucket; an empty frame gives an Axes that says so.

matplotlib is imported inside the functions so ``import tunnelframe`` stays fast. Nothing here
calls ``plt.show()`` or ``savefig``, modifies its input, or downloads anything (the colo map
draws a latitude/longitude grid: no installed dependency ships a world outline).
"""

from __future__ import annotations

from tunnelframe.plotting._ages import plot_connection_ages
from tunnelframe.plotting._colos import plot_colo_distribution, plot_colo_map
from tunnelframe.plotting._common import REGION_COLORS, STATUS_COLORS
from tunnelframe.plotting._ha import plot_ha_status
from tunnelframe.plotting._heatmap import plot_tunnel_colo_heatmap
from tunnelframe.plotting._history import plot_ha_timeline, plot_version_rollout
from tunnelframe.plotting._versions import plot_version_distribution, plot_version_drift

__all__ = [
    "REGION_COLORS",
    "STATUS_COLORS",
    "plot_colo_distribution",
    "plot_colo_map",
    "plot_connection_ages",
    "plot_ha_status",
    "plot_ha_timeline",
    "plot_tunnel_colo_heatmap",
    "plot_version_distribution",
    "plot_version_drift",
    "plot_version_rollout",
]
