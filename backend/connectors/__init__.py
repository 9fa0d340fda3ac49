"""Agency connectors (系统对接): one generic signed-HTTP connector driven by per-system specs.

Public API: ``build_connectors`` / ``build_connector`` (registry), ``Credentials``, the wire
shapes and errors from ``base``. See ``README.md`` beside this file.
"""

from backend.connectors.base import (
    Ack,
    BatchAnswer,
    CallbackBatch,
    CallbackRejected,
    CallbackResult,
    Connector,
    ConnectorError,
    Correction,
    EventAnswer,
    ItemStatus,
    MemoryReplayGuard,
    PermanentError,
    PrecheckResult,
    Reason,
    ReplayGuard,
    ResultDocument,
    Submission,
    TransientError,
)
from backend.connectors.client import Credentials, HttpConnector
from backend.connectors.registry import all_specs, build_connector, build_connectors

__all__ = [
    "Ack",
    "BatchAnswer",
    "CallbackBatch",
    "CallbackRejected",
    "CallbackResult",
    "Connector",
    "ConnectorError",
    "Correction",
    "Credentials",
    "EventAnswer",
    "HttpConnector",
    "ItemStatus",
    "MemoryReplayGuard",
    "PermanentError",
    "PrecheckResult",
    "Reason",
    "ReplayGuard",
    "ResultDocument",
    "Submission",
    "TransientError",
    "all_specs",
    "build_connector",
    "build_connectors",
]
