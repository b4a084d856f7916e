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
import re
import threading

from standin_http import ApiError, StandinHandler, arg_parser, serve

NAME = re.compile(r"[-=:.\w]+", re.ASCII)  # Pulsar's rule for tenant and namespace names


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
        info = req.json_body(optional=True) or {}
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
        req.json_body(optional=True)
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
        req.json_body(optional=True)
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


class Handler(StandinHandler):
    server_version = "pulsar-admin-standin/1.0"
    routes = [
        (("admin", "v2", "tenants"), {"GET": Store.list_tenants}),
        (("admin", "v2", "tenants", "{}"),
         {"GET": Store.get_tenant, "PUT": Store.create_tenant, "DELETE": Store.delete_tenant}),
        (("admin", "v2", "namespaces", "{}"), {"GET": Store.list_namespaces}),
        (("admin", "v2", "namespaces", "{}", "{}"), {"PUT": Store.create_namespace, "DELETE": Store.delete_namespace}),
        (("admin", "v2", "persistent", "{}", "{}"), {"GET": Store.list_topics}),
        (("admin", "v2", "persistent", "{}", "{}", "{}"), {"PUT": Store.create_topic, "DELETE": Store.delete_topic}),
        (("admin", "v2", "persistent", "{}", "{}", "{}", "stats"), {"GET": Store.topic_stats}),
    ]

    def error_body(self, status, reason):
        return {"reason": reason}


def main():
    serve(arg_parser("Stand-in for Apache Pulsar's admin REST API v2.").parse_args(), Handler, Store)


if __name__ == "__main__":
    main()
