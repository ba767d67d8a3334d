import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def home(tmp_path):
    """A private LOCUST_CHAOS_HOME (journal, stack profile) for one test."""
    path = tmp_path / "home"
    path.mkdir()
    old = os.environ.get("LOCUST_CHAOS_HOME")
    os.environ["LOCUST_CHAOS_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("LOCUST_CHAOS_HOME", None)
    else:
        os.environ["LOCUST_CHAOS_HOME"] = old


@pytest.fixture
def stack():
    from chaos_hooks.stack import EmbeddedStack
    s = EmbeddedStack(progress=lambda *_: None)
    s.up()
    yield s
    s.down()
