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
import threading
import uuid

from standin_http import ApiError, StandinHandler, arg_parser, serve

DEFAULT_FLOWS = "nightly-billing,billing,etl,reports"


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
        parameters = (req.json_body(optional=True) or {}).get("parameters", {})
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


class Handler(StandinHandler):
    server_version = "dataflow-trigger-standin/1.0"
    routes = [
        (("flows",), {"GET": Store.list_flows}),
        (("flows", "{}", "runs"), {"GET": Store.list_runs, "POST": Store.trigger}),
        (("flows", "{}", "runs", "{}"), {"GET": Store.get_run}),
    ]

    def error_body(self, status, reason):
        return {"reason": reason}


def main():
    parser = arg_parser("Stand-in for a pipeline trigger service.")
    parser.add_argument("--flows", default=DEFAULT_FLOWS, help=f"comma-separated flow names (default: {DEFAULT_FLOWS})")
    args = parser.parse_args()
    flows = [flow.strip() for flow in args.flows.split(",") if flow.strip()]
    if not flows:
        parser.error("--flows needs at least one flow name")
    serve(args, Handler, lambda: Store(flows))


if __name__ == "__main__":
    main()
