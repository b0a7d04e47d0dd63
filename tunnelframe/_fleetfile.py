"""The fleet file: many accounts, one token each, as TOML.

A fleet file names each account, the environment variable that holds its token (never the
token itself) and the share of that token's rate budget tunnelframe may use::

    requests_per_window = 1200   # Cloudflare's budget per token (optional)
    window_s = 300               # its window, in seconds (optional)
    budget_share = 0.5           # the default share per token (optional)

    [[account]]
    id = "0123456789abcdef0123456789abcdef"
    token_env = "CF_TOKEN_ACME"
    name = "acme"                # optional, for messages
    budget_share = 0.25          # optional, else the default

Accounts that name the same variable share one token, so one budget (and must agree on its
share). ``FleetFile.tokens()`` reads every variable at once and raises, naming each missing
one, before anything is fetched. This module reads files and the environment only: no HTTP.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tunnelframe._errors import AuthError, SchemaError

__all__ = ["FleetAccount", "FleetFile", "TokenGroup", "load_fleet_file"]

_ENV_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS: Final = frozenset({"requests_per_window", "window_s", "budget_share", "account"})
_ACCOUNT_KEYS: Final = frozenset({"id", "token_env", "name", "budget_share"})


@dataclass(frozen=True)
class FleetAccount:
    """One account of a fleet file: its id, the variable holding its token, its share."""

    account_id: str
    token_env: str
    budget_share: float
    name: str | None = None


@dataclass(frozen=True)
class TokenGroup:
    """The accounts read with one token, and that token's budget (never the token's value)."""

    token_env: str
    account_ids: tuple[str, ...]
    budget_share: float
    requests_per_window: int
    window_s: float

    @property
    def requests_allowed(self) -> int:
        """Requests per window tunnelframe may make with this token: its share of the budget."""
        return max(1, math.floor(self.budget_share * self.requests_per_window))


@dataclass(frozen=True)
class FleetFile:
    """A parsed fleet file (see the module docstring for the format).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "fleet.toml"
    >>> _ = path.write_text('[[account]]\\nid = "a1"\\ntoken_env = "TOKEN_A"\\n')
    >>> fleet = load_fleet_file(path)
    >>> fleet.groups()[0].token_env, fleet.groups()[0].requests_allowed
    ('TOKEN_A', 600)
    """

    path: str
    accounts: tuple[FleetAccount, ...]
    requests_per_window: int = 1200
    window_s: float = 300.0

    def groups(self) -> list[TokenGroup]:
        """The accounts grouped by token variable, in file order: one budget per token."""
        by_env: dict[str, list[FleetAccount]] = {}
        for account in self.accounts:
            by_env.setdefault(account.token_env, []).append(account)
        groups = []
        for env, accounts in by_env.items():
            shares = {a.budget_share for a in accounts}
            if len(shares) > 1:
                raise ValueError(
                    f"{self.path}: the accounts read with ${env} "
                    f"({', '.join(a.name or a.account_id for a in accounts)}) give different "
                    f"budget_share values {sorted(shares)}: one token has one budget; give "
                    "them the same share"
                )
            groups.append(
                TokenGroup(
                    token_env=env,
                    account_ids=tuple(a.account_id for a in accounts),
                    budget_share=shares.pop(),
                    requests_per_window=self.requests_per_window,
                    window_s=self.window_s,
                )
            )
        return groups

    def tokens(self, environ: Mapping[str, str] | None = None) -> list[tuple[TokenGroup, str]]:
        """Each token group with its token, read from the environment.

        Raises
        ------
        AuthError
            Some variables are unset or empty: names every one of them (never a value),
            before anything is fetched.
        """
        env = os.environ if environ is None else environ
        groups = self.groups()
        missing = [g.token_env for g in groups if not (env.get(g.token_env) or "").strip()]
        if missing:
            names = ", ".join(f"${name}" for name in missing)
            raise AuthError(
                f"{self.path}: no token in {names}: set "
                f"{'it' if len(missing) == 1 else 'them'} to an API token with Cloudflare "
                "Tunnel Read for the accounts listed there"
            )
        return [(g, env[g.token_env].strip()) for g in groups]


def _share(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(where, f"expected a number, got {value!r:.40}")
    if not (math.isfinite(value) and 0 < value <= 1):
        raise SchemaError(where, f"a share of the budget is 0 < share <= 1, got {value!r}")
    return float(value)


def load_fleet_file(path: str | os.PathLike[str]) -> FleetFile:
    """Read and check a fleet file (TOML; see the module docstring).

    Raises
    ------
    SchemaError
        Not TOML, or a key or value of the wrong kind; ``path`` names the file and the key
        (``fleet.toml:account[2].token_env``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "fleet.toml"
    >>> _ = path.write_text('budget_share = 0.25\\n[[account]]\\nid = "a1"\\ntoken_env = "T1"\\n')
    >>> load_fleet_file(path).accounts[0].budget_share
    0.25
    """
    source = Path(path)
    try:
        document: dict[str, Any] = tomllib.loads(source.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(str(source), f"not TOML ({exc})") from None
    except UnicodeDecodeError:
        raise SchemaError(str(source), "not UTF-8 text: not a fleet file") from None
    unknown = sorted(set(document) - _TOP_KEYS)
    if unknown:
        raise SchemaError(f"{source}:{unknown[0]}", f"unknown key (known: {sorted(_TOP_KEYS)})")
    quota = document.get("requests_per_window", 1200)
    if isinstance(quota, bool) or not isinstance(quota, int) or quota < 1:
        raise SchemaError(
            f"{source}:requests_per_window", f"expected a whole number >= 1, got {quota!r:.40}"
        )
    window = document.get("window_s", 300)
    if isinstance(window, bool) or not isinstance(window, int | float) or not window > 0:
        raise SchemaError(f"{source}:window_s", f"expected seconds > 0, got {window!r:.40}")
    default_share = _share(document.get("budget_share", 0.5), f"{source}:budget_share")
    entries = document.get("account")
    if not isinstance(entries, list) or not entries:
        raise SchemaError(f"{source}:account", "no [[account]] table: list at least one account")
    accounts = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{source}:account[{index}]"
        if not isinstance(entry, dict):
            raise SchemaError(where, "expected a table")
        extra = sorted(set(entry) - _ACCOUNT_KEYS)
        if extra:
            hint = (
                ": a fleet file names the variable holding a token (token_env), never the token"
                if any("token" in key for key in extra)
                else ""
            )
            raise SchemaError(f"{where}.{extra[0]}", f"unknown key{hint}")
        account_id, env = entry.get("id"), entry.get("token_env")
        if not isinstance(account_id, str) or not account_id.strip():
            raise SchemaError(f"{where}.id", "expected the account id (a non-empty string)")
        if account_id in seen:
            raise SchemaError(f"{where}.id", f"account {account_id} is listed twice")
        seen.add(account_id)
        if not isinstance(env, str) or not _ENV_NAME.match(env):
            raise SchemaError(
                f"{where}.token_env",
                "expected the NAME of an environment variable holding the token "
                "(letters, digits, _), e.g. CF_TOKEN_ACME",
            )
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise SchemaError(f"{where}.name", "expected a string")
        share = entry.get("budget_share", default_share)
        accounts.append(
            FleetAccount(
                account_id=account_id.strip(),
                token_env=env,
                budget_share=_share(share, f"{where}.budget_share"),
                name=name,
            )
        )
    return FleetFile(
        path=str(source),
        accounts=tuple(accounts),
        requests_per_window=quota,
        window_s=float(window),
    )
