"""What the integration tests (Tests/Integration) and the tools in scripts/ share: the real
lighttpd with mod_gatehouse on loopback, signing keys and tokens minted by PyJWT, the echo
backend, the examples/ configurations made local, and a real OpenID Connect provider.

Imported as a package: pytest.ini puts Tests/ on the path, the scripts' shell wrappers set
PYTHONPATH=Tests."""
