#!/usr/bin/env python3
"""A FastCGI backend (flup) that answers with the CGI environment it received, as JSON.

    python3 fastcgi_backend.py PORT
"""
import json
import sys

from flup.server.fcgi import WSGIServer


def application(environ, start_response):
    body = json.dumps({k: v for k, v in environ.items() if isinstance(v, str)}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    WSGIServer(application, bindAddress=("127.0.0.1", int(sys.argv[1]))).run()
