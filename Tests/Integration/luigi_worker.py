"""A real Luigi worker scheduling through lighttpd + mod_gatehouse: its RPC calls to the central
scheduler carry `Authorization: Bearer TOKEN`. Prints the build's summary; exit 0 when the task ran.

    python3 luigi_worker.py SCHEDULER_URL TOKEN OUTPUT_FILE"""
import sys

import luigi
import luigi.interface
import luigi.rpc

url, token, output = sys.argv[1:4]
# Fail fast when the gate refuses, instead of luigi's default 3 tries 30 s apart.
luigi.configuration.get_config().set("core", "rpc-retry-attempts", "1")
luigi.configuration.get_config().set("core", "rpc-retry-wait", "0")


class Hello(luigi.Task):
    name = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(output)

    def run(self):
        with self.output().open("w") as f:
            f.write(f"hello {self.name}\n")


class BearerSchedulerFactory(luigi.interface._WorkerSchedulerFactory):
    def create_remote_scheduler(self, url):
        scheduler = luigi.rpc.RemoteScheduler(url)
        scheduler._fetcher.session.headers["Authorization"] = f"Bearer {token}"
        return scheduler


result = luigi.build([Hello(name="gatehouse")], worker_scheduler_factory=BearerSchedulerFactory(),
                     scheduler_url=url, detailed_summary=True, no_lock=True)
print(result.summary_text)
sys.exit(0 if result.scheduling_succeeded and result.status.name == "SUCCESS" else 1)
