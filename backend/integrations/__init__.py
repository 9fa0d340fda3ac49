"""The integration registry (系统对接需求) and the work team's contact list (专班联络清单).

Managed records, one integration per business system with the ministry request form's
fields, and contacts per matter; CSV and XLSX export of both. Seeded once from the
catalog's business systems (``seed``) so a new deployment starts with every system listed.
"""

from backend.integrations.routes import ROUTES
from backend.integrations.service import seed

__all__ = ["ROUTES", "seed"]
