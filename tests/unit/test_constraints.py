"""Every Python dependency is pinned: constraints.txt (made by scripts/lock.sh) names an exact
version for each requirement of pyproject.toml, and that version satisfies the requirement's range."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_requirement_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    pins = _pins()
    unpinned, outside = [], []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker and not requirement.marker.evaluate():
            continue
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            unpinned.append(requirement.name)
        elif not requirement.specifier.contains(version, prereleases=True):
            outside.append(f"{requirement.name}=={version} (wants {requirement.specifier})")
    assert not unpinned and not outside, f"run scripts/lock.sh: unpinned {unpinned}, outside {outside}"


def test_the_install_scripts_use_the_constraints() -> None:
    for script in ("scripts/test.sh", "scripts/run.sh"):
        installs = [line for line in (ROOT / script).read_text().splitlines() if "pip install" in line]
        assert installs and all("-c constraints.txt" in line for line in installs), script
