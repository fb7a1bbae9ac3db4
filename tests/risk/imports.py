"""Which model libraries a fresh interpreter has loaded after a script: a close without a
model must not pay their import (seconds, in every process that closes a date)."""

from __future__ import annotations

import json
import subprocess
import sys

#: The modules whose import the close avoids without a model.
MODEL_MODULES = ("sklearn", "pandas", "tenor.risk.registry")


def model_modules_loaded(script: str) -> list[str]:
    """Run ``script`` in a fresh interpreter; the :data:`MODEL_MODULES` it left loaded."""
    report = (
        "\nimport json as _json, sys as _sys\n"
        f"print(_json.dumps(sorted(m for m in {MODEL_MODULES!r} if m in _sys.modules)))\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script + report],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stderr
    loaded: list[str] = json.loads(finished.stdout.strip().splitlines()[-1])
    return loaded
