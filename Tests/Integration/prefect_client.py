"""Prefect's own Python client, talking to the API through lighttpd + mod_gatehouse: it sends
PREFECT_API_KEY as `Authorization: Bearer …`. Runs in the Prefect virtual environment.

    PREFECT_API_URL=http://127.0.0.1:PORT/api PREFECT_API_KEY=TOKEN python prefect_client.py DEPLOYMENT_ID

Prints {"run": id, "runs": [ids]} after creating a flow run from the deployment and reading the
deployment's runs back; exits 1 with the HTTP status when the gate refuses."""
import asyncio
import json
import sys
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId


async def main(deployment_id):
    async with get_client() as client:
        try:
            run = await client.create_flow_run_from_deployment(deployment_id)
        except httpx.HTTPStatusError as error:
            print(json.dumps({"status": error.response.status_code}))
            return 1
        runs = await client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))
        print(json.dumps({"run": str(run.id), "runs": [str(r.id) for r in runs]}))
        return 0


sys.exit(asyncio.run(main(UUID(sys.argv[1]))))
