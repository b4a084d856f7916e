"""What the stand-in backends in this folder share: a small JSON-over-HTTP
server on the standard library alone. It is not a program of its own.

A stand-in subclasses StandinHandler and sets:

- server_version, such as "pulsar-admin-standin/1.0";
- routes, a list of (pattern, {method: function}). A pattern is a tuple of path
  segments, where "{}" matches one non-empty, URL-decoded segment. The first
  route that matches and has the method wins; HEAD is served as GET without the
  body. No match gets 404; a match without the method gets 405 and Allow;
- error_body(status, reason), the JSON that every error is sent as.

function(store, req, *segments) returns (status, payload), sent as JSON (no
body with 204), or raises ApiError; any other exception is a 500, and its
traceback goes to stderr. req is the handler, with req.body (at most 1 MiB, sent
with a Content-Length), req.subject (the X-Auth-Subject header or None),
req.query (parse_qs of the query string) and req.json_body(). Each request is
logged to stderr as: METHOD PATH STATUS subject=JSON. main() then runs

    serve(arg_parser("Stand-in for ...").parse_args(), Handler, Store)

after adding its own options to the parser; Store() makes req.server.store.
"""
import argparse
import json
import sys
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

MAX_BODY = 1 << 20


class ApiError(Exception):
    """An error answer: its status, its reason, and the Allow header of a 405."""

    def __init__(self, status, reason, allow=None):
        super().__init__(reason)
        self.status, self.reason, self.allow = status, reason, allow


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def match(pattern, parts):
    """The segments of parts that pattern's "{}" match, or None if it does not match."""
    if len(pattern) != len(parts):
        return None
    args = []
    for want, got in zip(pattern, parts):
        if want == "{}" and got:
            args.append(got)
        elif want != got:
            return None
    return args


class StandinHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes = []

    def do_GET(self):
        allow = None
        try:
            self.body = self._read_body()
            self.subject = self.headers.get("X-Auth-Subject")
            url = urlsplit(self.path)
            self.query = parse_qs(url.query)
            status, payload = self._route(url.path)
        except ApiError as e:
            status, payload, allow = e.status, self.error_body(e.status, e.reason), e.allow
        except Exception:
            traceback.print_exc()
            status, payload = 500, self.error_body(500, "Internal server error")
        self._send(status, payload, allow)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def json_body(self, optional=False):
        """The request body as a JSON object; None if it is blank and optional."""
        if optional and not self.body.strip():
            return None
        try:
            value = json.loads(self.body, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise ApiError(400, "Malformed JSON body") from None
        if not isinstance(value, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return value

    def _read_body(self):
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise ApiError(411, "Send the request body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise ApiError(400, "Invalid Content-Length")
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "Request body larger than 1 MiB")
        return self.rfile.read(length)

    def _route(self, path):
        parts = [unquote(p) for p in path.strip("/").split("/")]
        method = "GET" if self.command == "HEAD" else self.command
        allowed = set()
        for pattern, methods in self.routes:
            args = match(pattern, parts)
            if args is not None and method in methods:
                return methods[method](self.server.store, self, *args)
            if args is not None:
                allowed.update(methods)
        if not allowed:
            raise ApiError(404, "Not found")
        raise ApiError(405, "Method not allowed", allow=", ".join(sorted(allowed)))

    def _send(self, status, payload, allow=None):
        data = b"" if status == 204 else json.dumps(payload).encode()
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", allow)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_error(self, code, message=None, explain=None):
        """What http.server itself refuses (a bad request line, an unknown method), as JSON."""
        self.close_connection = True
        self._send(code, self.error_body(code, message or HTTPStatus(code).phrase))

    def log_request(self, code="-", size="-"):
        headers = getattr(self, "headers", None)
        subject = headers.get("X-Auth-Subject") if headers else None
        print(f"{self.command or '-'} {getattr(self, 'path', '-')} {int(code)} subject={json.dumps(subject)}",
              file=sys.stderr, flush=True)


def arg_parser(description):
    """A parser for the options every stand-in takes, --host and --port; add your own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    return parser


def serve(args, handler, make_store):
    """Serve handler on args.host and args.port until interrupted, with make_store() as the store."""
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.store = make_store()
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
