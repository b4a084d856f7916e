"""Integration fixtures: a real /usr/sbin/lighttpd with build/mod_gatehouse.so, an echo backend
behind mod_proxy, a CGI script, tokens minted by PyJWT and a real OpenID Connect provider (the
helpers themselves are in Tests/gatehouse_testkit)."""
import http.server
import threading

import pytest

from gatehouse_testkit.echo_backend import EchoHandler
from gatehouse_testkit.lighttpd import Lighttpd
from gatehouse_testkit.provider import Provider
from gatehouse_testkit.sign_in import SignInSite
from gatehouse_testkit.tokens import Keys


@pytest.fixture(scope="session")
def backend():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="session")
def keys(tmp_path_factory):
    return Keys(str(tmp_path_factory.mktemp("keys")))


@pytest.fixture
def lighttpd(tmp_path, backend, keys):
    server = Lighttpd(str(tmp_path), backend, keys.jwks_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    """A real OpenID Connect provider on loopback, and its keys fetched by `gatehouse jwks fetch`."""
    server = Provider(str(tmp_path_factory.mktemp("provider")))
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path, backend, provider):
    """lighttpd signing people in at the test provider, with the test sign-in policy
    (gatehouse_testkit.sign_in.SignInSite)."""
    server = SignInSite(str(tmp_path), backend, provider)
    server.start(server.policy())
    yield server
    server.stop()
