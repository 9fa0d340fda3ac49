"""数据汇聚 (statistics) and the public transparency figures. ``ROUTES`` for the composition root."""


def __getattr__(name: str):
    if name == "ROUTES":
        from backend.stats.routes import ROUTES

        return ROUTES
    raise AttributeError(name)
