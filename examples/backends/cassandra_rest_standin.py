#!/usr/bin/env python3
"""A stand-in for a REST API over Apache Cassandra shaped like Stargate's REST
API v2 (/v2/keyspaces/{keyspace}/{table}/...), stored in SQLite, for examples
and end-to-end tests behind lighttpd + mod_gatehouse.

It authorizes nothing itself: mod_gatehouse in front of it decides. Rows are
JSON objects keyed by their string "id", per keyspace and table; keyspaces and
tables exist as soon as a row is written to them. Each write records the
X-Auth-Subject header lighttpd passes (the caller's verified "sub"), returned
as the row's "_written_by" field. Errors are {"description": ..., "code": N}
as in Stargate.

Not implemented from Stargate: schemas (the /v2/schemas API, column types,
composite or non-"id" primary keys), where-clauses, field selection, sorting,
pageState paging (only ?page-size=N, from 1 to 1000, default 100), PATCH,
the GraphQL and Document APIs, and Stargate's own auth: real Stargate wants an
X-Cassandra-Token header, this one ignores it. A row keyed "rows" can be
written and deleted but only read through the listing, as in Stargate.

    cassandra_rest_standin.py --port 8082 [--host 127.0.0.1] [--db rows.sqlite]
"""
import argparse
import json
import sqlite3
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

MAX_BODY = 1 << 20


class ApiError(Exception):
    def __init__(self, status, reason, allow=None):
        super().__init__(reason)
        self.status, self.reason, self.allow = status, reason, allow


def error_body(status, reason):
    return {"description": reason, "code": status}


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_object(raw):
    """The request body as a JSON object."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed JSON body") from None
    if not isinstance(value, dict):
        raise ApiError(400, "request body must be a JSON object")
    value.pop("_written_by", None)  # the server's to set, never the client's
    return value


def as_row(doc, written_by):
    return {**json.loads(doc), "_written_by": written_by}


class Store:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS rows (keyspace TEXT, tbl TEXT, key TEXT, doc TEXT,"
                            " written_by TEXT, PRIMARY KEY (keyspace, tbl, key))")

    def list_rows(self, req, keyspace, table):
        try:
            size = int(req.query.get("page-size", ["100"])[-1])
        except ValueError:
            size = 0
        if not 1 <= size <= 1000:
            raise ApiError(400, "page-size must be an integer from 1 to 1000")
        with self.lock:
            rows = self.db.execute("SELECT doc, written_by FROM rows WHERE keyspace = ? AND tbl = ?"
                                   " ORDER BY key LIMIT ?", (keyspace, table, size)).fetchall()
        return 200, {"count": len(rows), "data": [as_row(*row) for row in rows]}

    def get_row(self, req, keyspace, table, key):
        with self.lock:
            row = self.db.execute("SELECT doc, written_by FROM rows WHERE keyspace = ? AND tbl = ? AND key = ?",
                                  (keyspace, table, key)).fetchone()
        if row is None:
            raise ApiError(404, "row not found")
        return 200, {"count": 1, "data": [as_row(*row)]}

    def add_row(self, req, keyspace, table):
        doc = parse_object(req.body)
        key = doc.get("id")
        if not isinstance(key, str) or not key:
            raise ApiError(400, 'the row needs a non-empty string "id"')
        with self.lock, self.db:
            try:
                self.db.execute("INSERT INTO rows VALUES (?, ?, ?, ?, ?)",
                                (keyspace, table, key, json.dumps(doc), req.subject))
            except sqlite3.IntegrityError:
                raise ApiError(409, "a row with this id already exists") from None
        return 201, {"id": key}

    def put_row(self, req, keyspace, table, key):
        doc = parse_object(req.body)
        if doc.setdefault("id", key) != key:
            raise ApiError(400, 'the body\'s "id" differs from the key in the path')
        with self.lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?, ?)",
                            (keyspace, table, key, json.dumps(doc), req.subject))
        return 200, {"data": {**doc, "_written_by": req.subject}}

    def delete_row(self, req, keyspace, table, key):
        with self.lock, self.db:
            deleted = self.db.execute("DELETE FROM rows WHERE keyspace = ? AND tbl = ? AND key = ?",
                                      (keyspace, table, key)).rowcount
        if not deleted:
            raise ApiError(404, "row not found")
        return 204, None


ROUTES = [  # "{}" matches one non-empty, URL-decoded path segment; the first route with the method wins
    (("v2", "keyspaces", "{}", "{}", "rows"), {"GET": Store.list_rows}),
    (("v2", "keyspaces", "{}", "{}"), {"POST": Store.add_row}),
    (("v2", "keyspaces", "{}", "{}", "{}"), {"GET": Store.get_row, "PUT": Store.put_row, "DELETE": Store.delete_row}),
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
    server_version = "cassandra-rest-standin/1.0"

    def do_GET(self):
        allow = None
        try:
            self.body = self._read_body()
            self.subject = self.headers.get("X-Auth-Subject")
            url = urlsplit(self.path)
            self.query = parse_qs(url.query)
            status, payload = self._route(url.path)
        except ApiError as e:
            status, payload, allow = e.status, error_body(e.status, e.reason), e.allow
        except Exception:
            traceback.print_exc()
            status, payload = 500, error_body(500, "internal server error")
        self._send(status, payload, allow)

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self):
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise ApiError(411, "send the request body with a Content-Length")
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise ApiError(400, "invalid Content-Length")
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "request body larger than 1 MiB")
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
            raise ApiError(404, "not found")
        raise ApiError(405, "method not allowed", allow=", ".join(sorted(allowed)))

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
        self._send(code, error_body(code, message or HTTPStatus(code).phrase))

    def log_request(self, code="-", size="-"):
        headers = getattr(self, "headers", None)
        subject = headers.get("X-Auth-Subject") if headers else None
        print(f"{self.command or '-'} {getattr(self, 'path', '-')} {int(code)} subject={json.dumps(subject)}",
              file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description="Stand-in for a Stargate-style REST API v2 over Cassandra.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", default=":memory:", help="SQLite database file (default: in memory)")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.store = Store(args.db)
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
