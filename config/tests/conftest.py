"""The unit tests' shared fixtures for the tests of the whole site (tasks in process,
fast password hashing), as under pymetrics/."""

from pymetrics.conftest import celery_eager, fast_password_hashing

__all__ = ["celery_eager", "fast_password_hashing"]
