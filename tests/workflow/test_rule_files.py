"""The rule files read a config key plainly when the schema gives it a default.

The schema is the one place a default lives (validate_config fills it in, and ``schema_filled``
fills the stand-in section of a study that is off). A ``SECTION.get("key", default)`` in a rule
file is a second default that can drift from the schema's — ``threads`` read as 1 where the schema
says 4, ``cache_units`` as 1 where it says 4 — so a key with a schema default must not be read so.
"""

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = sorted((REPO / "workflow" / "rules").rglob("*.smk"))
SCHEMAS = REPO / "workflow" / "schemas"
# The rule files' section variables and the schema object each one holds.
SECTIONS = {
    "LANGUAGE": ("language",),
    "PARAMACT": ("paramact",),
    "PARAMACT_STS": ("paramact", "sts"),
    "PARAMACT_VALIDATION": ("paramact", "validation"),
    "REDUNDANCY": ("redundancy",),
    "CENSUS": ("census",),
    "KN": ("knowledge",),
    "LESION": ("lesion",),
    "ATLAS": ("atlas",),
    "ATLAS_LL": ("atlas", "language_lesions"),
}
GET = re.compile(
    r"\(?\b(?P<var>[A-Z_]+)(?: or \{\}\))?"  # SECTION or (SECTION or {})
    r"\.get\(\s*\"(?P<key>\w+)\"\s*,\s*(?P<default>[^)]+?)\s*\)"
)


def schema_defaults(path: tuple[str, ...]) -> dict[str, object]:
    """The keys of a schema object that have a default, and the default."""
    node = yaml.safe_load((SCHEMAS / f"{path[0]}.schema.yaml").read_text(encoding="utf-8"))
    for key in path[1:]:
        node = node["properties"][key]
    properties = node.get("properties", {})
    return {key: sub["default"] for key, sub in properties.items() if "default" in sub}


def fallbacks(text: str) -> list[tuple[str, str, str]]:
    """(section variable, key, default) of every ``SECTION.get("key", default)`` in a rule file."""
    return [(m["var"], m["key"], m["default"]) for m in GET.finditer(text) if m["var"] in SECTIONS]


def test_the_scan_finds_a_fallback_and_its_default():
    line = 'threads: LANGUAGE.get("threads", 1)\n    seed=(ATLAS or {}).get("seed", 0),'
    assert fallbacks(line) == [("LANGUAGE", "threads", "1"), ("ATLAS", "seed", "0")]
    assert ast.literal_eval(fallbacks(line)[0][2]) != schema_defaults(("language",))["threads"]


@pytest.mark.parametrize("path", RULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_rule_file_repeats_a_schema_default(path):
    found = [
        f"{var}.get({key!r}, {default}) (schema default: {schema_defaults(SECTIONS[var])[key]!r})"
        for var, key, default in fallbacks(path.read_text(encoding="utf-8"))
        if key in schema_defaults(SECTIONS[var])
    ]
    assert not found, f"{path.name}: read these plainly, the schema fills them: {found}"
