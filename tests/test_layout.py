"""Layout rules the code relies on. Test files need unique basenames:
the test folders are not packages (tests import their siblings and
conftest by plain name), so two `test_config.py` files would collide."""

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from conftest import REPO, top_level_imports


def test_test_file_basenames_are_unique():
    names = Counter(path.name for path in (REPO / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def _analysis_scripts() -> list[Path]:
    """Scripts of rules whose conda environment is envs/analysis.yaml (no torch in it)."""
    scripts = set()
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        for body in re.split(r"\n\s*rule \w+:", rules.read_text(encoding="utf-8"))[1:]:
            env, script = (
                re.search(r"envs/(\w+)\.yaml", body),
                re.search(r"scripts/([\w/]+\.py)", body),
            )
            if env and script and env.group(1) == "analysis":
                scripts.add(REPO / "scripts" / script.group(1))
    return sorted(scripts)


def test_analysis_rules_never_import_torch():
    """envs/analysis.yaml has no torch: its scripts must neither set torch threads nor import it."""
    scripts = _analysis_scripts()
    assert len(scripts) >= 15
    imports = []
    for script in scripts:
        source = script.read_text(encoding="utf-8")
        assert "uses_torch=False" in source, (
            f"{script}: script_context(..., uses_torch=False) expected"
        )
        imports += sorted(top_level_imports(script))
    code = (
        "\n".join(sorted(set(imports)))
        + "\nimport sys\nprint(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert out.stdout.strip() == "[]", f"an analysis script's imports load {out.stdout.strip()}"


def test_no_rule_runs_a_run_block():
    """Snakemake's local executor runs each ``run:`` job in a new
    ``python -m snakemake --target-jobs`` process that reads the whole workflow again (~10 CPU-s
    with the plan-time checks): rules use ``script:`` (a plain Python process) or ``shell:``."""
    found = [
        f"{rules.name}:{number}"
        for rules in sorted((REPO / "workflow" / "rules").glob("*.smk"))
        for number, line in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1)
        if re.fullmatch(r"\s+run:\s*", line)
    ]
    assert found == []
