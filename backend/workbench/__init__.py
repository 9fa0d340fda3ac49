"""The back office for agencies and service halls: the manual connector, the agency
workbench (部门工作台), window assistance (帮办代办) and administration screens' API.

``ROUTES`` for the composition root; ``connector_mode`` and ``mode_aware`` for the dispatcher.
Importing this package connects to nothing.
"""

from backend.workbench.connector import ManualConnector, ModeAwareConnector, connector_mode, mode_aware

__all__ = ["ROUTES", "ManualConnector", "ModeAwareConnector", "connector_mode", "mode_aware"]


def __getattr__(name: str):
    if name == "ROUTES":
        from backend.workbench.routes import ROUTES

        return ROUTES
    raise AttributeError(name)
