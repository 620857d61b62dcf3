"""Settings of the test suite: the project's own, in debug, so it runs with nothing configured.

pytest-django loads these before any conftest, hence the environment is set here. An explicit
DEBUG or SECRET_KEY in the environment still wins.
"""

import os

os.environ.setdefault("DEBUG", "true")

from chitchat.settings import *  # noqa: F403
