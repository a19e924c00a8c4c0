"""AWS fixtures live in tests/conftest.py so storage contract tests can use them too."""
