"""The example study of the tests: what a study outside ``lmanatomy`` needs to plug in."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lmanatomy.errors import ConfigError
from lmanatomy.study import Study

HERE = Path(__file__).resolve().parent.parent


def check(config: Mapping[str, Any], registry: Any) -> None:
    """What the schema cannot say: the greeting goes into a Markdown table cell."""
    if "|" in config["example"]["greeting"]:
        raise ConfigError("example.greeting", "a greeting cannot contain '|' (it is a table cell)")


def section(results: Path, paper: Mapping[str, Any], run: Mapping[str, Any]) -> list[str]:
    """The summary's lines: the run's table as written."""
    return [
        "The run's greeting:",
        "",
        (results / "example" / "greeting.md").read_text(encoding="utf-8"),
    ]


STUDY = Study(
    name="example",
    paper="Example et al. 2099: greetings",
    citation="Example et al. 2099",
    title="Greetings (Example et al. 2099)",
    schema="../../tests/example_study/example.schema.yaml",
    rules="example.smk",
    check="lmanatomy_example:check",
    section="lmanatomy_example:section",
    captions="captions",
    root=HERE,
)
