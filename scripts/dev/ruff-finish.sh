#!/usr/bin/env bash
# Format the Python tree with ruff and apply its safe fixes, then print what is left (`make fmt`).
#
# Run once after merging branches that were kept unformatted (so that they would not conflict):
# the formatter rewrites most files, so its output is one commit of its own. Before formatting,
# scripts/dev/wrap_long_lines.py wraps the long comments, docstrings and strings the formatter
# leaves alone (only where the program stays the same). What neither can fix is printed by rule
# and file; the exit status is ruff check's: 0 when nothing is left.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUFF=${RUFF:-.venv/bin/ruff}
PYTHON=${PYTHON:-.venv/bin/python}
PATHS=(src tests scripts)

"$RUFF" --version
"$PYTHON" scripts/dev/wrap_long_lines.py --ruff "$RUFF" "${PATHS[@]}"
"$RUFF" check --fix-only --quiet "${PATHS[@]}"   # import order, pyupgrade: safe fixes only
"$RUFF" format "${PATHS[@]}"
"$RUFF" format --check --quiet "${PATHS[@]}"
echo "left to fix by hand (ruff check --statistics):"
if "$RUFF" check --statistics "${PATHS[@]}"; then
    echo "nothing: ruff check and ruff format --check pass"
else
    "$RUFF" check --output-format concise "${PATHS[@]}"
    exit 1
fi
