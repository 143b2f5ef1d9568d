#!/usr/bin/env bash
# Build the documentation (HTML in docs/_build/html) with warnings as errors.
# Needs the package installed with the docs extra: pip install '.[docs]'.
# autodoc imports the installed autorec_fast (its compiled extension is not in
# the source tree), so this runs from docs/, never with the checkout on sys.path.
set -euo pipefail
cd "$(dirname "$0")"
exec python -m sphinx -W --keep-going -b html -d _build/doctrees . _build/html "$@"
