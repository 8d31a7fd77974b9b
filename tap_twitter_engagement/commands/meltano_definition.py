"""The extractor's Meltano plugin definition, derived from the tap's own settings schema.

``meltano.yml`` and the Hub-style definition in ``plugins/extractors/`` declare every setting
with its kind, default, label and description, the default selection and the ``plan`` command;
deriving them from ``CONFIG_SCHEMA`` (and the SDK's built-in settings) keeps the three in
agreement, and tests compare them. ``python -m tap_twitter_engagement.commands.meltano_definition``
prints the definition; ``--write`` rewrites both files. The Hub definition is written with its
keys in alphabetical order at every level, as the Hub's yamllint rules require; ``meltano.yml``
keeps the readable order (name first).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tap_twitter_engagement.tap import TapTwitterEngagement

#: Where the project lives; the Hub definition installs from it (README: Meltano).
REPO_URL = "https://github.com/tap-twitter-engagement/tap-twitter-engagement"
#: Settings groups Meltano checks before a run: the app's key and secret with one token, or
#: with the accounts list.
SETTINGS_GROUPS = [
    ["consumer_key", "consumer_secret", "access_token", "access_token_secret"],
    ["consumer_key", "consumer_secret", "accounts"],
]
#: What a project syncs unless it selects otherwise: the daily engagement, and ``tracked``
#: (what the configuration tracks, which the marts join to; no request of its own). Without it
#: Meltano selects ``*.*``, every stream, and the /28hr and /totals streams spend requests
#: against the contract's limits. The ``*`` also matches the streams other ``group_by`` shapes
#: write to (``historical_engagement_by_<parts>``, ``historical_engagement_wide``).
SELECT = ["historical_engagement*.*", "tracked.*"]
#: ``meltano invoke tap-twitter-engagement:plan``: the plan reads the settings Meltano exports as
#: ``TAP_TWITTER_ENGAGEMENT_*`` variables (``--config ENV``).
COMMANDS = {
    "plan": {
        "executable": "tap-twitter-engagement-plan",
        "args": "--config ENV",
        "description": "What a sync would do (tweets, requests, time, billed handles), without "
        "calling the API it reads (the api setting). Add --state FILE to plan from a state.",
    }
}
#: The Hub's connector quality (gold, silver, bronze or unknown), which Meltano rates from usage
#: data: gold, SDK-based with high usage; silver, SDK-based with low to medium usage; bronze, not
#: SDK-based; unknown ("No Data"), no usage data. This variant is SDK-based and nobody's usage of
#: it is known yet, so ``unknown`` is the honest rating until the Hub has data.
QUALITY = "unknown"
#: Where ``--write`` puts the Hub definition, from the project's root.
HUB_DEFINITION = Path("plugins") / "extractors" / "tap-twitter-engagement.yml"
#: The Hub definition's first line: it is generated, so edits belong in the schema or here.
HUB_HEADER = (
    "# Generated from the tap's settings schema by\n"
    "# `python -m tap_twitter_engagement.commands.meltano_definition --write`: do not edit.\n"
)


def meltano_kind(prop: Mapping[str, Any]) -> str:
    """Meltano's setting kind for a JSON schema property."""
    kinds = prop.get("type", [])
    kinds = {kinds} if isinstance(kinds, str) else set(kinds)
    if "enum" in prop:
        return "options"
    if prop.get("format") == "date":
        return "date_iso8601"
    for json_type, kind in (
        ("boolean", "boolean"),
        ("integer", "integer"),
        ("number", "decimal"),
        ("array", "array"),
        ("object", "object"),
    ):
        if json_type in kinds:
            return kind
    return "object" if "anyOf" in prop or "oneOf" in prop else "string"


def setting(name: str, prop: Mapping[str, Any]) -> dict[str, Any]:
    """One Meltano setting: name, kind, label, description, default, sensitivity, options."""
    out: dict[str, Any] = {
        "name": name,
        "kind": meltano_kind(prop),
        "label": prop.get("title") or name.replace("_", " ").capitalize(),
        "description": " ".join(str(prop.get("description", "")).split()),
    }
    if prop.get("secret"):
        out["sensitive"] = True
    if "default" in prop:
        out["value"] = prop["default"]
    if out["kind"] == "options":
        out["options"] = [{"label": str(v), "value": v} for v in prop["enum"] if v is not None]
    return out


def settings() -> list[dict[str, Any]]:
    """Every setting the tap takes, its own and the SDK's built-in ones, in schema order."""
    schema = TapTwitterEngagement.full_config_schema()
    return [setting(name, prop) for name, prop in schema["properties"].items()]


def capabilities() -> list[str]:
    """What ``--about`` reports."""
    return [str(c) for c in TapTwitterEngagement.capabilities]


def definition(pip_url: str = f"git+{REPO_URL}.git") -> dict[str, Any]:
    """The Hub-style extractor definition (for ``meltano add --from-ref``), valid against the
    Hub's JSON schema (``tests/data/meltano-hub/``)."""
    return {
        "name": TapTwitterEngagement.name,
        "namespace": "tap_twitter_engagement",
        "variant": "tap-twitter-engagement",
        "label": "X (Twitter) Engagement",
        "description": "Tweet impressions and engagement metrics from the X (Twitter) "
        "Enterprise Engagement API or X API v2 Post analytics",
        "logo_url": "/assets/logos/extractors/twitter.png",
        "domain_url": "https://docs.x.com/x-api/enterprise-gnip-2.0/fundamentals/engagement-api",
        "repo": REPO_URL,
        "docs": f"{REPO_URL}#readme",
        "keywords": ["meltano_sdk", "api", "twitter", "x", "social_media"],
        "maintenance_status": "active",
        "quality": QUALITY,
        "pip_url": pip_url,
        "executable": TapTwitterEngagement.name,
        "capabilities": capabilities(),
        "select": SELECT,
        "commands": COMMANDS,
        "settings_group_validation": SETTINGS_GROUPS,
        "settings": settings(),
    }


def dump(value: Any, *, sort_keys: bool = False) -> str:
    """YAML as both files are written: block style, 100 columns, two-space indentation and
    sequences not indented under their key (what the Hub's yamllint rules ask)."""
    return yaml.safe_dump(value, sort_keys=sort_keys, width=100, allow_unicode=True)


def hub_text() -> str:
    """The Hub definition file: keys in alphabetical order at every level (yamllint's
    ``key-ordering``, which the Hub enforces)."""
    return HUB_HEADER + dump(definition(), sort_keys=True)


def write(root: Path) -> None:
    """Rewrite the Hub definition, and in ``meltano.yml`` the extractor's capabilities,
    selection, commands, settings groups and settings, from the schema (the rest of
    ``meltano.yml`` is kept as it is)."""
    (root / HUB_DEFINITION).write_text(hub_text())
    project = root / "meltano.yml"
    text = project.read_text()
    start = text.index("    capabilities:\n", text.index("  - name: tap-twitter-engagement\n"))
    end = text.index("  loaders:\n")
    declared = {
        "capabilities": capabilities(),
        "select": SELECT,
        "commands": COMMANDS,
        "settings_group_validation": SETTINGS_GROUPS,
        "settings": settings(),
    }
    block = "".join(
        f"    {line}" if line.strip() else line for line in dump(declared).splitlines(keepends=True)
    )
    project.write_text(text[:start] + block + text[end:])


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write(Path.cwd())
    else:
        sys.stdout.write(hub_text())
