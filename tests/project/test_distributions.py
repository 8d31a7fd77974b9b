"""The two distributions of the repository: the tap's wheel holds the tap alone (a production
install carries no emulator), the sandbox's the sandbox alone, and the sandbox shares nothing
with the tap but the metric names, so that it can catch the tap's mistakes.

The wheels are built as a release would build them (``python -m build``), without an isolated
build environment: the dev extra installs the build backend, so this runs offline."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SANDBOX_PROJECT = ROOT / "sandbox"
SANDBOX_PACKAGE = SANDBOX_PROJECT / "twitter_engagement_sandbox"
#: The one module of the tap the sandbox may import.
SHARED = "tap_twitter_engagement.metrics"


def _build_wheel(project: Path, out: Path) -> zipfile.ZipFile:
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


@pytest.fixture(scope="module")
def tap_wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    with _build_wheel(ROOT, tmp_path_factory.mktemp("tap-wheel")) as wheel:
        yield wheel


@pytest.fixture(scope="module")
def sandbox_wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[zipfile.ZipFile]:
    with _build_wheel(SANDBOX_PROJECT, tmp_path_factory.mktemp("sandbox-wheel")) as wheel:
        yield wheel


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (info,) = {n.split("/")[0] for n in wheel.namelist() if n.endswith(".dist-info/METADATA")}
    return wheel.read(f"{info}/{name}").decode()


def test_the_tap_wheel_holds_the_tap_alone(tap_wheel):
    names = tap_wheel.namelist()
    assert "tap_twitter_engagement/tap.py" in names
    assert "tap_twitter_engagement/metrics.py" in names
    outside = [
        n for n in names if not n.startswith(("tap_twitter_engagement/", "tap_twitter_engagement-"))
    ]
    assert outside == []
    assert [n for n in names if "sandbox" in n] == []
    entry_points = _dist_info(tap_wheel, "entry_points.txt")
    assert "tap-twitter-engagement = tap_twitter_engagement.tap:main" in entry_points
    assert "sandbox" not in entry_points


def test_the_sandbox_wheel_holds_the_sandbox_alone(sandbox_wheel):
    names = sandbox_wheel.namelist()
    modules = {p.relative_to(SANDBOX_PROJECT).as_posix() for p in SANDBOX_PACKAGE.glob("*.py")}
    assert modules <= set(names)
    assert "twitter_engagement_sandbox/py.typed" in names
    outside = [
        n
        for n in names
        if not n.startswith(("twitter_engagement_sandbox/", "tap_twitter_engagement_sandbox-"))
    ]
    assert outside == []
    entry_points = _dist_info(sandbox_wheel, "entry_points.txt")
    assert "tap-twitter-engagement-sandbox = twitter_engagement_sandbox.cli:main" in entry_points
    requires = {
        canonicalize_name(Requirement(line.split(":", 1)[1]).name)
        for line in _dist_info(sandbox_wheel, "METADATA").splitlines()
        if line.startswith("Requires-Dist:")
    }
    assert requires == _declared()


def _imports() -> Iterator[tuple[str, str]]:
    """Every absolute import of the sandbox package: (where, dotted name). ``from a import b``
    gives ``a.b``, since ``b`` may be a module."""
    files = sorted(SANDBOX_PACKAGE.rglob("*.py"))
    assert len(files) >= 8, files
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield where, alias.name
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    yield where, f"{node.module}.{alias.name}"


def test_the_sandbox_imports_nothing_of_the_tap_but_the_metric_names():
    of_the_tap = [
        (where, name)
        for where, name in _imports()
        if name.split(".")[0] == "tap_twitter_engagement"
    ]
    assert of_the_tap, "the sandbox takes its metric names from the tap"
    refused = [
        f"{where}: {name}"
        for where, name in of_the_tap
        if name != SHARED and not name.startswith(f"{SHARED}.")
    ]
    assert refused == []


def _declared() -> set[str]:
    project = tomllib.loads((SANDBOX_PROJECT / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}


def test_the_sandbox_declares_what_it_imports_and_nothing_more():
    # An editable install lists no modules in its record: the tap is named here.
    providers = {
        "tap_twitter_engagement": ["tap-twitter-engagement"],
        **importlib.metadata.packages_distributions(),
    }
    needed: dict[str, str] = {}
    for where, name in _imports():
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top == SANDBOX_PACKAGE.name:
            continue
        assert top in providers, f"{where}: {name} comes from no installed distribution"
        for dist in providers[top]:
            needed.setdefault(canonicalize_name(dist), where)
    assert set(needed) == _declared(), needed
