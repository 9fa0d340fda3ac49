"""The test environment (测试环境): simulated agency systems, fixture data and sandbox endpoints."""
