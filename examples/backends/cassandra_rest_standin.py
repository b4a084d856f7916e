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
import json
import sqlite3
import threading

from standin_http import ApiError, StandinHandler, arg_parser, serve


def row_body(req):
    """The request body as a JSON object, less the "_written_by" that is the server's to set."""
    value = req.json_body()
    value.pop("_written_by", None)
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
        doc = row_body(req)
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
        doc = row_body(req)
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


class Handler(StandinHandler):
    server_version = "cassandra-rest-standin/1.0"
    routes = [  # the first route with the method wins: "rows" is a table's listing, not a row
        (("v2", "keyspaces", "{}", "{}", "rows"), {"GET": Store.list_rows}),
        (("v2", "keyspaces", "{}", "{}"), {"POST": Store.add_row}),
        (("v2", "keyspaces", "{}", "{}", "{}"), {"GET": Store.get_row, "PUT": Store.put_row, "DELETE": Store.delete_row}),
    ]

    def error_body(self, status, reason):
        return {"description": reason, "code": status}


def main():
    parser = arg_parser("Stand-in for a Stargate-style REST API v2 over Cassandra.")
    parser.add_argument("--db", default=":memory:", help="SQLite database file (default: in memory)")
    args = parser.parse_args()
    serve(args, Handler, lambda: Store(args.db))


if __name__ == "__main__":
    main()
