"""What Cloudflare colo codes mean: site, metro, city, country, region, coordinates.

A colo code as the API gives it (``colo_name``) names a **site**: today the metro's IATA code in
lower case plus a site number (``ord12``), up to mid-2023 the bare upper-case IATA code (``ORD``,
one site too). The **metro** is the upper-case IATA code (``ORD``); its geography comes from
Cloudflare's list of data centres bundled as ``data/colos.csv``, then from ``airportsdata``.
Loaded lazily, once. Nothing here touches the network.
"""

from __future__ import annotations

import csv
import functools
import warnings
from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import pandas as pd

from tunnelframe._data import _data_path
from tunnelframe._errors import TunnelframeWarning
from tunnelframe.colos._core import _STR, _split

__all__ = ["UnknownColoWarning", "colo_info", "colo_metro"]


def colo_metro(code: str) -> str:
    """The metro (upper-case IATA code) of a colo code, site or legacy form, ignoring case.

    Parameters
    ----------
    code : str
        A ``colo_name`` as the API gives it: a site (``ord12``) or a metro (``ORD``). A code in
        neither form is its own metro, upper-cased.

    Returns
    -------
    str

    Examples
    --------
    >>> from tunnelframe.colos import colo_metro
    >>> colo_metro("ord12"), colo_metro("ORD"), colo_metro("lax07")
    ('ORD', 'ORD', 'LAX')
    """
    return _split(code)[0]


_REGIONS = (
    "Africa",
    "Asia",
    "Europe",
    "Middle East",
    "North America",
    "Oceania",
    "South America",
)
# The region of a time-zone area (the part of a tz name before "/").
_TZ_AREA_REGION = {
    "Africa": "Africa",
    "America": "North America",
    "Arctic": "Europe",
    "Asia": "Asia",
    "Australia": "Oceania",
    "Europe": "Europe",
    "Pacific": "Oceania",
}
# Countries whose region is not their time-zone area's: South America is the part of the
# "America" area south of Panama; the Middle East is the Gulf, the Levant, Iraq, Iran and Yemen
# (Egypt stays in Africa, Turkey and the Caucasus follow their zone); islands of the "Atlantic"
# and "Indian" areas go with their continent; the US keeps Hawaii (Pacific/Honolulu).
_REGION_COUNTRIES = {
    "South America": "AR BO BR CL CO EC FK GF GS GY PE PY SR UY VE",
    "Middle East": "AE BH IL IQ IR JO KW LB OM PS QA SA SY YE",
    "Africa": "CV KM MG MU RE SC SH YT",
    "Europe": "CY ES FO IS PT",
    "Asia": "IO MV",
    "Oceania": "CC CX",
    "North America": "BM US",
}
_COUNTRY_REGION = {
    country: region
    for region, countries in _REGION_COUNTRIES.items()
    for country in countries.split()
}


class UnknownColoWarning(TunnelframeWarning):
    """Some colo codes name a metro neither Cloudflare's list of data centres nor airportsdata
    knows.

    Examples
    --------
    >>> import warnings
    >>> import tunnelframe as tf
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     info = tf.colo_info(["DFW", "zz99"])
    >>> caught[0].category.__name__, info.loc["zz99", "country"]
    ('UnknownColoWarning', nan)
    """


# --------------------------------------------------------------------------- colo codes


@functools.cache
def _airports() -> dict[str, dict[str, Any]]:
    # airportsdata parses its ~8000-row CSV on load: do it once, and only when asked.
    import airportsdata

    return cast("dict[str, dict[str, Any]]", airportsdata.load("IATA"))


@functools.cache
def _cloudflare_metros() -> dict[str, dict[str, Any]]:
    with _data_path("colos.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return {
        row["code"]: {
            "city": row["city"],
            "country": row["country"],
            "tz": row["tz"],
            "lat": float(row["latitude"]),
            "lon": float(row["longitude"]),
        }
        for row in rows
    }


def _region(country: str, tz: str) -> str | None:
    return _COUNTRY_REGION.get(country) or _TZ_AREA_REGION.get(tz.partition("/")[0])


def _unique_codes(codes: Iterable[object] | str) -> list[object]:
    if isinstance(codes, str):
        return [codes]
    if isinstance(codes, pd.Series | pd.Index | pd.Categorical | np.ndarray):
        values = pd.Series(codes)
    else:
        try:
            values = pd.Series(list(codes), dtype=object)
        except TypeError as exc:
            raise TypeError(
                f"colo_info expects colo codes such as ['ord12', 'LHR'] or a column of them, "
                f"got {type(codes).__name__}"
            ) from exc
    return list(values.dropna().unique())


def _colo_info(codes: Iterable[object] | str, *, stacklevel: int) -> pd.DataFrame:
    unique = _unique_codes(codes)
    cloudflare = _cloudflare_metros()
    airports = _airports() if unique else {}
    metro: list[str | None] = []
    number: list[int | None] = []
    city: list[str | None] = []
    country: list[str | None] = []
    region: list[str | None] = []
    lat: list[float] = []
    lon: list[float] = []
    unknown: list[object] = []
    for code in unique:
        key, site_number = _split(code) if isinstance(code, str) else (None, None)
        metro.append(key or None)
        number.append(site_number)
        found = None if not key else (cloudflare.get(key) or airports.get(key))
        if found is None:
            unknown.append(code)
            city.append(None)
            country.append(None)
            region.append(None)
            lat.append(np.nan)
            lon.append(np.nan)
            continue
        city.append(found["city"] or None)
        country.append(found["country"] or None)
        region.append(_region(found["country"], found["tz"]))
        lat.append(float(found["lat"]))
        lon.append(float(found["lon"]))
    if unknown:
        listed = ", ".join(repr(code) for code in unknown)
        warnings.warn(
            f"{len(unknown)} colo code(s) name no metro in Cloudflare's list of data centres "
            f"bundled with tunnelframe, nor an IATA airport code: {listed}; their city, "
            "country, region and coordinates are NA (a data centre newer than this release "
            "of tunnelframe, or not a Cloudflare colo code)",
            UnknownColoWarning,
            stacklevel=stacklevel,
        )
    countries = sorted({c for c in country if c is not None})
    return pd.DataFrame(
        {
            "metro": pd.Series(metro, dtype=_STR).array,
            "site_number": pd.array(number, dtype="Int64"),
            "city": pd.Series(city, dtype=_STR).array,
            "country": pd.Categorical(country, categories=countries),
            "region": pd.Categorical(region, categories=_REGIONS),
            "latitude": np.asarray(lat, dtype=np.float64),
            "longitude": np.asarray(lon, dtype=np.float64),
        },
        index=pd.Index([str(code) for code in unique], dtype=_STR, name="colo_name"),
    )


def colo_info(codes: Iterable[object] | str) -> pd.DataFrame:
    """Describe Cloudflare colo codes: metro, site number, city, country, region, coordinates.

    **The colo model.** A connection's ``colo_name`` names a *site*, one data centre building:
    since about 2024 the API gives the metro's IATA code in lower case plus a two-digit site
    number (``ord12``); data up to mid-2023 gives the bare upper-case IATA code (``ORD``),
    which tunnelframe takes as one site too. Several sites share a *metro*, the upper-case
    IATA code: ``ord02``, ``ord06``, ``ord12`` and ``ORD`` are all Chicago. Codes are kept
    verbatim as sites everywhere; matching ignores case and surrounding space. Geography comes
    from the metro, so every site of a known metro resolves. A code in neither form (not three
    letters and an optional number) is looked up, and counted, as a metro of its own.

    Metros are looked up offline, first in Cloudflare's own list of data centres bundled with
    tunnelframe (``data/colos.csv``: codes from Cloudflare's status page, coordinates and
    country from its speed test's ``locations``, e.g. SJU is in PR, FRU is Bishkek), then in
    the IATA list of ``airportsdata`` (a metro opened after this release). The region is one
    of Africa, Asia, Europe, Middle East, North America, Oceania, South America: it follows the
    metro's time-zone area (``Europe/…`` → Europe, ``America/…`` → North America,
    ``Australia/…`` and ``Pacific/…`` → Oceania), except for the countries listed in
    ``_COUNTRY_REGION`` (South America, the Middle East, oceanic islands, and the US so that
    Honolulu stays in North America). Central America and the Caribbean count as North
    America; Russia splits by time zone at the Urals.

    Parameters
    ----------
    codes : str or iterable of str
        Colo codes such as ``"ord12"`` or ``"DFW"``, e.g. the ``colo_name`` column of a
        connections frame. Duplicates and missing values are dropped.

    Returns
    -------
    pandas.DataFrame
        One row per distinct code, in order of first appearance, indexed by ``colo_name``
        (str) as given: ``metro`` (str, upper-case IATA code), ``site_number`` (Int64; NA for
        a bare metro code), ``city`` (str), ``country`` (category, ISO 3166 alpha-2),
        ``region`` (category), ``latitude`` and ``longitude`` (float64, degrees, the metro's).
        Codes of an unknown metro get NA geography.

    Warns
    -----
    UnknownColoWarning
        Once per call, listing every code whose metro neither list knows.

    Examples
    --------
    >>> import tunnelframe as tf
    >>> info = tf.colo_info(["ord12", "ORD", "lhr01"])
    >>> info["metro"].tolist(), info["site_number"].tolist()
    (['ORD', 'ORD', 'LHR'], [12, <NA>, 1])
    >>> list(info["city"]), list(info["region"])
    (['Chicago', 'Chicago', 'London'], ['North America', 'North America', 'Europe'])
    >>> str(tf.colo_info("SJU")["country"].iloc[0])
    'PR'
    """
    return _colo_info(codes, stacklevel=3)
