#!/usr/bin/env python3
"""A backend that answers every request with the method, path and headers it
received, as JSON: what the integration tests and the demo put behind lighttpd.

    python3 -m gatehouse_testkit.echo_backend PORT   (with PYTHONPATH=Tests)
"""
import http.server
import json
import sys


class EchoHandler(http.server.BaseHTTPRequestHandler):
    def _echo(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]}, indent=1).encode() + b"\n"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _echo

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), EchoHandler).serve_forever()
