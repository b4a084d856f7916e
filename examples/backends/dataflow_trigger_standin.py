#!/usr/bin/env python3
"""A stand-in for a pipeline trigger service: the "run this flow" endpoint of
something like Google Cloud Dataflow templates or Airflow's and Dagster's run
APIs, kept in memory, for examples and end-to-end tests behind lighttpd +
mod_gatehouse.

It authorizes nothing itself: mod_gatehouse in front of it decides. It knows
a fixed set of flows (nightly-billing, billing, etl and reports, or --flows)
and records each triggered run with the X-Auth-Subject header lighttpd passes
(the caller's verified "sub") as "triggered_by". Errors are {"reason": ...}.

Not implemented: running anything (every run stays QUEUED forever), creating
or deleting flows, cancelling runs, schedules, logs, the real services' own
request shapes and authentication, and persistence across restarts.

    dataflow_trigger_standin.py --port 8083 [--host 127.0.0.1] [--flows a,b,c]
"""
import argparse
import json
import sys
import threading
import traceback
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

MAX_BODY = 1 << 20
DEFAULT_FLOWS = "nightly-billing,billing,etl,reports"


class ApiError(Exception):
    def __init__(self, status, reason, allow=None):
        super().__init__(reason)
        self.status, self.reason, self.allow = status, reason, allow


def error_body(status, reason):
    return {"reason": reason}


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_object(raw):
    """The request body as a JSON object, or None if it is empty."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "Malformed JSON body") from None
    if not isinstance(value, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return value


class Store:
    def __init__(self, flows):
        self.lock = threading.Lock()
        self.runs = {flow: [] for flow in flows}  # flow -> its runs, oldest first; the keys never change

    def _runs(self, flow):
        if flow not in self.runs:
            raise ApiError(404, "Flow not found")
        return self.runs[flow]

    def list_flows(self, req):
        return 200, list(self.runs)

    def trigger(self, req, flow):
        self._runs(flow)
        parameters = (parse_object(req.body) or {}).get("parameters", {})
        if not isinstance(parameters, dict):
            raise ApiError(400, '"parameters" must be a JSON object')
        run = {"run_id": str(uuid.uuid4()), "flow": flow, "state": "QUEUED",
               "triggered_by": req.subject, "parameters": parameters}
        with self.lock:
            self.runs[flow].append(run)
        return 201, run

    def list_runs(self, req, flow):
        with self.lock:
            return 200, self._runs(flow)[::-1]

    def get_run(self, req, flow, run_id):
        with self.lock:
            for run in self._runs(flow):
                if run["run_id"] == run_id:
                    return 200, run
        raise ApiError(404, "Run not found")


ROUTES = [  # "{}" matches one non-empty, URL-decoded path segment
    (("flows",), {"GET": Store.list_flows}),
    (("flows", "{}", "runs"), {"GET": Store.list_runs, "POST": Store.trigger}),
    (("flows", "{}", "runs", "{}"), {"GET": Store.get_run}),
]


def match(pattern, parts):
    if len(pattern) != len(parts):
        return None
    args = []
    for want, got in zip(pattern, parts):
        if want == "{}" and got:
            args.append(got)
        elif want != got:
            return None
    return args


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dataflow-trigger-standin/1.0"

    def do_GET(self):
        allow = None
        try:
            self.body = self._read_body()
            self.subject = self.headers.get("X-Auth-Subject")
            status, payload = self._route(urlsplit(self.path).path)
        except ApiError as e:
            status, payload, allow = e.status, error_body(e.status, e.reason), e.allow
        except Exception:
            traceback.print_exc()
            status, payload = 500, error_body(500, "Internal server error")
        self._send(status, payload, allow)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

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
        for pattern, methods in ROUTES:
            args = match(pattern, parts)
            if args is not None and method in methods:
                return methods[method](self.server.store, self, *args)
            if args is not None:
                allowed.update(methods)
        if not allowed:
            raise ApiError(404, "Not found")
        raise ApiError(405, "Method not allowed", allow=", ".join(sorted(allowed)))

    def _send(self, status, payload, allow=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
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
        self._send(code, error_body(code, message or HTTPStatus(code).phrase))

    def log_request(self, code="-", size="-"):
        headers = getattr(self, "headers", None)
        subject = headers.get("X-Auth-Subject") if headers else None
        print(f"{self.command or '-'} {getattr(self, 'path', '-')} {int(code)} subject={json.dumps(subject)}",
              file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description="Stand-in for a pipeline trigger service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--flows", default=DEFAULT_FLOWS, help=f"comma-separated flow names (default: {DEFAULT_FLOWS})")
    args = parser.parse_args()
    flows = [flow.strip() for flow in args.flows.split(",") if flow.strip()]
    if not flows:
        parser.error("--flows needs at least one flow name")
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.store = Store(flows)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
