#!/usr/bin/env python3
"""A stand-in for Apache Pulsar's broker admin REST API v2 (/admin/v2/...), kept
in memory, for examples and end-to-end tests behind lighttpd + mod_gatehouse.

It authorizes nothing itself: mod_gatehouse in front of it decides. It starts
with tenants acme and globex, each with namespace "default", and the topics
persistent://acme/default/orders and persistent://globex/default/invoices.

Implemented: list/get/create/delete tenants, list/create/delete namespaces,
list/create/delete non-partitioned persistent topics, and a tiny, always-idle
TopicStats object. Errors are {"reason": ...} as in Pulsar.

Not implemented: messaging of any kind, partitioned and non-persistent topics,
clusters, policies (a namespace's or topic's PUT body is parsed, then ignored),
permissions, Pulsar's own authentication and authorization, the v1 and v3
APIs, and persistence across restarts. Invalid names get 400 where Pulsar
answers 412.

    pulsar_admin_standin.py --port 8081 [--host 127.0.0.1]
"""
import argparse
import json
import re
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

MAX_BODY = 1 << 20
NAME = re.compile(r"[-=:.\w]+", re.ASCII)  # Pulsar's rule for tenant and namespace names


class ApiError(Exception):
    def __init__(self, status, reason, allow=None):
        super().__init__(reason)
        self.status, self.reason, self.allow = status, reason, allow


def error_body(status, reason):
    return {"reason": reason}


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_object(raw, required=True):
    """The request body as a JSON object, or None if it is empty and not required."""
    if not raw.strip():
        if required:
            raise ApiError(400, "Request body must be a JSON object")
        return None
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "Malformed JSON body") from None
    if not isinstance(value, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return value


def check_name(name, kind):
    if not NAME.fullmatch(name):
        raise ApiError(400, f"Invalid {kind} name")


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.tenants = {}     # tenant -> TenantInfo
        self.namespaces = {}  # "tenant/namespace" -> set of full topic names
        for tenant, topic in (("acme", "orders"), ("globex", "invoices")):
            self.tenants[tenant] = {"adminRoles": [], "allowedClusters": ["standalone"]}
            self.namespaces[f"{tenant}/default"] = {f"persistent://{tenant}/default/{topic}"}

    def _tenant(self, tenant):
        if tenant not in self.tenants:
            raise ApiError(404, "Tenant does not exist")
        return self.tenants[tenant]

    def _namespace(self, tenant, namespace):
        self._tenant(tenant)
        if f"{tenant}/{namespace}" not in self.namespaces:
            raise ApiError(404, "Namespace does not exist")
        return self.namespaces[f"{tenant}/{namespace}"]

    def _topic(self, tenant, namespace, topic):
        topics, name = self._namespace(tenant, namespace), f"persistent://{tenant}/{namespace}/{topic}"
        if name not in topics:
            raise ApiError(404, "Topic not found")
        return topics, name

    def list_tenants(self, req):
        with self.lock:
            return 200, sorted(self.tenants)

    def get_tenant(self, req, tenant):
        with self.lock:
            return 200, dict(self._tenant(tenant))

    def create_tenant(self, req, tenant):
        info = parse_object(req.body, required=False) or {}
        roles, clusters = info.get("adminRoles", []), info.get("allowedClusters", ["standalone"])
        if not all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in (roles, clusters)):
            raise ApiError(400, "adminRoles and allowedClusters must be lists of strings")
        check_name(tenant, "tenant")
        with self.lock:
            if tenant in self.tenants:
                raise ApiError(409, "Tenant already exists")
            self.tenants[tenant] = {"adminRoles": roles, "allowedClusters": clusters}
        return 204, None

    def delete_tenant(self, req, tenant):
        with self.lock:
            self._tenant(tenant)
            if any(ns.startswith(tenant + "/") for ns in self.namespaces):
                raise ApiError(409, "The tenant still has active namespaces")
            del self.tenants[tenant]
        return 204, None

    def list_namespaces(self, req, tenant):
        with self.lock:
            self._tenant(tenant)
            return 200, sorted(ns for ns in self.namespaces if ns.startswith(tenant + "/"))

    def create_namespace(self, req, tenant, namespace):
        parse_object(req.body, required=False)
        check_name(namespace, "namespace")
        with self.lock:
            self._tenant(tenant)
            if f"{tenant}/{namespace}" in self.namespaces:
                raise ApiError(409, "Namespace already exists")
            self.namespaces[f"{tenant}/{namespace}"] = set()
        return 204, None

    def delete_namespace(self, req, tenant, namespace):
        with self.lock:
            if self._namespace(tenant, namespace):
                raise ApiError(409, "Cannot delete non empty namespace")
            del self.namespaces[f"{tenant}/{namespace}"]
        return 204, None

    def list_topics(self, req, tenant, namespace):
        with self.lock:
            return 200, sorted(self._namespace(tenant, namespace))

    def create_topic(self, req, tenant, namespace, topic):
        parse_object(req.body, required=False)
        check_name(topic, "topic")
        with self.lock:
            topics, name = self._namespace(tenant, namespace), f"persistent://{tenant}/{namespace}/{topic}"
            if name in topics:
                raise ApiError(409, "This topic already exists")
            topics.add(name)
        return 204, None

    def delete_topic(self, req, tenant, namespace, topic):
        with self.lock:
            topics, name = self._topic(tenant, namespace, topic)
            topics.remove(name)
        return 204, None

    def topic_stats(self, req, tenant, namespace, topic):
        with self.lock:
            self._topic(tenant, namespace, topic)
        return 200, {"msgRateIn": 0.0, "msgRateOut": 0.0, "publishers": [], "subscriptions": {}, "storageSize": 0}


ROUTES = [  # "{}" matches one non-empty, URL-decoded path segment
    (("admin", "v2", "tenants"), {"GET": Store.list_tenants}),
    (("admin", "v2", "tenants", "{}"),
     {"GET": Store.get_tenant, "PUT": Store.create_tenant, "DELETE": Store.delete_tenant}),
    (("admin", "v2", "namespaces", "{}"), {"GET": Store.list_namespaces}),
    (("admin", "v2", "namespaces", "{}", "{}"), {"PUT": Store.create_namespace, "DELETE": Store.delete_namespace}),
    (("admin", "v2", "persistent", "{}", "{}"), {"GET": Store.list_topics}),
    (("admin", "v2", "persistent", "{}", "{}", "{}"), {"PUT": Store.create_topic, "DELETE": Store.delete_topic}),
    (("admin", "v2", "persistent", "{}", "{}", "{}", "stats"), {"GET": Store.topic_stats}),
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
    server_version = "pulsar-admin-standin/1.0"

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
    parser = argparse.ArgumentParser(description="Stand-in for Apache Pulsar's admin REST API v2.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.store = Store()
    print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
