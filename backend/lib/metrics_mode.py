"""Choose prometheus-client's mode for a process, before prometheus-client is imported.

prometheus-client decides at import whether values live in this process or in shared
multiprocess files (``PROMETHEUS_MULTIPROC_DIR``), so this module must not import it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from backend.settings import Settings

_MULTIPROC_ENV = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")


def prepare_process_metrics(settings: Settings, command: str) -> None:
    """Multiprocess files for an API of several processes; a registry of its own for every other process."""
    for name in _MULTIPROC_ENV:
        os.environ.pop(name, None)
    if command == "api" and settings.api_processes > 1:
        directory = Path(settings.prometheus_multiproc_dir or Path(settings.data_dir) / "metrics")
        # Files of a previous run would add its counts to this one's.
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)  # inherited by uvicorn's processes
