"""The Hub definition (``plugins/extractors/tap-twitter-engagement.yml``) passes the Meltano Hub's
own checks, its JSON schema and its yamllint rules (vendored in ``tests/data/meltano-hub/``), as
written by the generator; and it selects the historical engagement by default and declares the
``plan`` command, as ``meltano.yml`` does."""

from __future__ import annotations

import copy
import fnmatch
import json
import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from tap_twitter_engagement.commands import meltano_definition
from tap_twitter_engagement.tap import TapTwitterEngagement
from tests.project.pipeline import ROOT

HUB = ROOT / "tests" / "data" / "meltano-hub"
DEFINITION = ROOT / meltano_definition.HUB_DEFINITION


def _hub_validator() -> Draft7Validator:
    """The Hub's extractor schema, its relative ``$ref``s resolved from the vendored files (each
    registered under its own ``$id``, which is what the refs resolve to); an unresolvable ref
    raises instead of passing."""
    registry: Registry[Any] = Registry()
    root: dict[str, Any] = {}
    for path in sorted((HUB / "schemas").rglob("*.schema.json")):
        schema = json.loads(path.read_text())
        registry = registry.with_resource(schema["$id"], DRAFT7.create_resource(schema))
        if path.name == "extractors.schema.json":
            root = schema
    return Draft7Validator(root, registry=registry, format_checker=Draft7Validator.FORMAT_CHECKER)


def _hub_errors(definition: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in _hub_validator().iter_errors(definition)
    ]


def _committed() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEFINITION.read_text())
    return loaded


def _extractor() -> dict[str, Any]:
    (extractor,) = yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]["extractors"]
    return dict(extractor)


def test_the_hub_definition_validates_against_the_hubs_json_schema():
    assert _hub_errors(_committed()) == []
    assert _committed()["quality"] in ("gold", "silver", "bronze", "unknown")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("quality"), "(top): 'quality' is a required property"),
        (lambda d: d.update(stars=5), "(top): Additional properties are not allowed"),
        (lambda d: d["settings"][0].update(secret=True), "settings/0: Additional properties"),
        (lambda d: d.update(select="historical_engagement.*"), "select: 'historical_engagement"),
    ],
    ids=["no quality", "unknown key", "unknown setting key", "select not a list"],
)
def test_the_hub_schema_check_refuses_what_the_hub_refuses(change, expected):
    """The vendored schema is wired up: every ``$ref`` resolves and is applied."""
    definition = copy.deepcopy(_committed())
    change(definition)
    errors = _hub_errors(definition)
    assert any(e.startswith(expected) for e in errors), errors


def test_the_hub_definition_passes_the_hubs_yamllint():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "--strict",
            "--format",
            "parsable",
            "--config-file",
            str(HUB / "yamllint.yaml"),
            str(DEFINITION),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_yamllint_with_the_hubs_rules_refuses_meltano_yml_key_order(tmp_path):
    """The rules bite: a definition in meltano.yml's readable order (name first) fails."""
    readable = tmp_path / "readable.yml"
    readable.write_text(meltano_definition.dump(meltano_definition.definition()))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "-f",
            "parsable",
            "-c",
            str(HUB / "yamllint.yaml"),
            readable,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "(key-ordering)" in result.stdout


def test_write_reproduces_both_committed_files(tmp_path):
    """``--write`` on the committed files changes nothing: the file the checks above read is the
    generator's output, and meltano.yml's derived part is too."""
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    (tmp_path / DEFINITION.relative_to(ROOT)).parent.mkdir(parents=True)
    meltano_definition.write(tmp_path)
    assert (tmp_path / "meltano.yml").read_text() == (ROOT / "meltano.yml").read_text()
    assert (tmp_path / DEFINITION.relative_to(ROOT)).read_text() == DEFINITION.read_text()
    assert DEFINITION.read_text() == meltano_definition.hub_text()


def test_the_hub_definition_selects_the_historical_engagement_and_has_the_plan_command():
    definition, extractor = _committed(), _extractor()
    assert definition["select"] == extractor["select"] == ["historical_engagement*.*", "tracked.*"]
    plan = {
        "executable": "tap-twitter-engagement-plan",
        "args": "--config ENV",
        "description": extractor["commands"]["plan"]["description"],
    }
    assert definition["commands"] == extractor["commands"] == {"plan": plan}
    assert "without calling the API it reads" in plan["description"]


def test_the_default_selection_matches_every_historical_shape_and_nothing_else():
    """Meltano matches the stream part of a select pattern with ``fnmatch``. The shapes other
    ``group_by`` values write to are selected too; the other streams are not."""
    pattern, tracked = meltano_definition.SELECT
    assert tracked == "tracked.*"
    streams, properties = pattern.split(".", 1)
    assert properties == "*"
    names = set(TapTwitterEngagement(config={}, credentials_required=False).streams)
    assert "historical_engagement" in names
    historical = {
        "historical_engagement",
        "historical_engagement_by_tweet_day",
        "historical_engagement_by_hour",
        "historical_engagement_wide",
    }
    for name in historical | names:
        assert fnmatch.fnmatch(name, streams) == (name in historical), name


def test_readme_shows_the_selection_and_the_plan_command():
    readme = (ROOT / "README.md").read_text()
    meltano = readme[readme.index("## Meltano") : readme.index("## Using it for real")]
    assert "`historical_engagement*.*`" in meltano
    assert "meltano invoke tap-twitter-engagement:plan" in meltano
