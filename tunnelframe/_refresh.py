"""Which tunnels an incremental refresh reads: the plan, as pure data.

Given the tunnels just listed and the previous snapshot's tunnels, :func:`plan_reads` decides
whose ``/connections`` to read now, in order, within a number of request slots: first every
tunnel that is new or whose list entry changed (``status``, ``conns_active_at``,
``conns_inactive_at``: what the list shows of its connections), then every tunnel whose read
failed last time, then the rest, longest unread first (the rotation that bounds how late a
change the list cannot show is seen). It does no I/O and knows no HTTP, so the fetch and a
benchmark on a simulated clock make the same choices.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["LIST_FIELDS", "RefreshPlan", "changed", "plan_reads"]

#: The fields of a tunnel's list entry that move with its connections (API-NOTES: ``status``;
#: ``conns_active_at`` when it got its first connection; ``conns_inactive_at`` when it lost its
#: last one). A tunnel whose entry keeps all three unchanged is carried forward.
LIST_FIELDS: Final = ("status", "conns_active_at", "conns_inactive_at")


def changed(listed: Mapping[str, Any], previous: Mapping[str, Any]) -> bool:
    """Whether a tunnel's list entry moved since ``previous`` (its earlier entry).

    Examples
    --------
    >>> changed({"status": "down"}, {"status": "healthy"})
    True
    >>> changed({"status": "healthy", "name": "new"}, {"status": "healthy", "name": "old"})
    False
    """
    return any(listed.get(key) != previous.get(key) for key in LIST_FIELDS)


@dataclass(frozen=True)
class RefreshPlan:
    """What an incremental refresh does with each listed tunnel (by index in the listing).

    Attributes
    ----------
    reads : list of int
        Tunnels to read now, in order.
    carried : list of int
        Readable tunnels not read now whose previous state is carried forward.
    deferred : list of int
        Tunnels that needed a read (new, changed or failed before) but found no slot.
    reasons : dict
        Why each tunnel of ``reads`` and ``deferred`` needs (or got) a read: ``"new"``,
        ``"changed"``, ``"failed"`` or ``"rotation"``.
    """

    reads: list[int] = field(default_factory=list)
    carried: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    reasons: dict[int, str] = field(default_factory=dict)


def plan_reads(
    listed: Sequence[Mapping[str, Any]],
    readable: Sequence[bool],
    previous: Mapping[str, Mapping[str, Any]],
    failed: Collection[str],
    *,
    observed: Mapping[str, float],
    slots: int,
) -> RefreshPlan:
    """Choose whose ``/connections`` to read, in order, within ``slots`` requests.

    Parameters
    ----------
    listed : sequence of dict
        The tunnels just listed (their list entries).
    readable : sequence of bool
        Per listed tunnel, whether it can have connectors at all (not deleted, not inactive,
        of a kind being read); the others need no read.
    previous : mapping
        The previous snapshot's tunnels by id.
    failed : collection of str
        Ids of the tunnels whose read failed (or was not made) in the previous snapshot.
    observed : mapping
        When each previous tunnel was read (POSIX seconds, by id): the rotation's order.
    slots : int
        Reads that fit the budget.

    Returns
    -------
    RefreshPlan

    Examples
    --------
    >>> listed = [{"id": "a", "status": "down"}, {"id": "b", "status": "healthy"},
    ...           {"id": "c", "status": "healthy"}]
    >>> previous = {"a": {"status": "healthy"}, "b": {"status": "healthy"},
    ...             "c": {"status": "healthy"}}
    >>> plan = plan_reads(listed, [True] * 3, previous, set(), slots=2,
    ...                   observed={"a": 30.0, "b": 20.0, "c": 10.0})
    >>> plan.reads, plan.carried, plan.reasons[0], plan.reasons[2]
    ([0, 2], [1], 'changed', 'rotation')
    """
    if slots < 0:
        raise ValueError(f"slots must be >= 0, got {slots}")
    urgent: list[int] = []
    retry: list[int] = []
    rotation: list[int] = []
    reasons: dict[int, str] = {}
    for index, tunnel in enumerate(listed):
        if not readable[index]:
            continue
        key = str(tunnel.get("id"))
        before = previous.get(key)
        if before is None:
            urgent.append(index)
            reasons[index] = "new"
        elif key in failed:
            retry.append(index)
            reasons[index] = "failed"
        elif changed(tunnel, before):
            urgent.append(index)
            reasons[index] = "changed"
        else:
            rotation.append(index)
    # Longest unread first; ties in listing order (sorted() is stable).
    rotation.sort(key=lambda i: observed.get(str(listed[i].get("id")), float("-inf")))
    needed = urgent + retry
    reads = needed[:slots]
    deferred = needed[slots:]
    left = max(0, slots - len(reads))
    chosen = rotation[:left]
    for index in chosen:
        reasons[index] = "rotation"
    return RefreshPlan(
        reads=reads + chosen,
        carried=rotation[left:],
        deferred=deferred,
        reasons=reasons,
    )
