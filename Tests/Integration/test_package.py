"""The Debian package from scripts/package.sh, used on this machine as an administrator uses it:
`apt-get install ./….deb`, `lighty-enable-mod gatehouse`, Debian's own /etc/lighttpd/lighttpd.conf,
keys fetched by the timer's command, the man pages, an upgrade that keeps a changed conffile, then
remove and purge, which must leave no file behind. Needs root. Whatever happens, the package is
purged and the machine's lighttpd configuration is put back as it was.

lighttpd runs in a network namespace of its own (`unshare --net`): Debian's configuration listens
on port 80, and on [::]:80 through use-ipv6.pl, which the machine's own lighttpd may be using."""
import grp
import os
import re
import shutil
import subprocess
import time

import pytest

from gatehouse_testkit.paths import ROOT

pytestmark = pytest.mark.e2e  # (builds two packages: about 90 s)

PACKAGE = "lighttpd-mod-gatehouse"
CONFFILE = "/etc/lighttpd/conf-available/05-gatehouse.conf"
ENABLED = "/etc/lighttpd/conf-enabled/05-gatehouse.conf"
KEYS = "/etc/lighttpd/gatehouse"
UNITS = "/lib/systemd/system"
# Everything the package, lighty-enable-mod and the timers may touch; compared before and after.
WATCHED = ["/etc/lighttpd", "/usr/lib/lighttpd", "/usr/bin", "/usr/share/doc", "/usr/share/man", UNITS,
           "/etc/systemd/system"]
# lintian's warnings that stay, with why (docs/install.md lists them too).
LINTIAN_WARNINGS = {
    # swift-argument-parser names a subcommand's page "gatehouse audit verify", with spaces,
    # which lexgrog cannot index for apropos; the pages render (man gatehouse.audit.verify).
    "bad-whatis-entry",
}


def run(*argv, check=True, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {result.returncode}:\n{result.stdout}{result.stderr}")
    return result


def apt_get(*argv):
    return run("apt-get", "-y", "-o", "DPkg::Lock::Timeout=300", *argv, env={**os.environ,
               "DEBIAN_FRONTEND": "noninteractive"})


def package_state():
    """dpkg's status and version of the package; ("", "") when dpkg does not know it."""
    result = run("dpkg-query", "-W", "-f=${Status}\t${Version}", PACKAGE, check=False)
    status, _, version = result.stdout.partition("\t")
    return (status, version) if result.returncode == 0 and not status.endswith("not-installed") else ("", "")


def listing(folders):
    """Every path under the folders, with its type and mode, owner, and link target, content (in
    /etc) or size."""
    entries = {}
    for folder in folders:
        for top, folders_here, files in os.walk(folder):
            for path in [top] + [os.path.join(top, name) for name in folders_here + files]:
                st = os.lstat(path)
                if os.path.islink(path):
                    what = "-> " + os.readlink(path)
                elif not os.path.isfile(path):
                    what = None
                elif path.startswith("/etc/"):
                    with open(path, "rb") as f:
                        what = f.read()
                else:
                    what = st.st_size
                entries[path] = (st.st_mode, st.st_uid, st.st_gid, what)
    return entries


def listing_of(entries, folder):
    return {path: what for path, what in entries.items() if path == folder or path.startswith(folder + "/")}


@pytest.fixture(scope="module")
def machine(tmp_path_factory, packages):
    """The machine's state before the test (after building, which may install what it needs), and,
    whatever happens, that state again after it."""
    if os.geteuid() != 0:
        pytest.fail("the package test installs a package: run it as root")
    if package_state() != ("", ""):
        pytest.fail(f"{PACKAGE} is already installed here; this test would remove it")
    backup = str(tmp_path_factory.mktemp("etc-lighttpd") / "lighttpd")
    shutil.copytree("/etc/lighttpd", backup, symlinks=True)
    before = listing(WATCHED)
    yield before
    if package_state() != ("", ""):
        run("dpkg", "--purge", PACKAGE, check=False)
    if listing(["/etc/lighttpd"]) != listing_of(before, "/etc/lighttpd"):
        shutil.rmtree("/etc/lighttpd")
        shutil.copytree(backup, "/etc/lighttpd", symlinks=True)


@pytest.fixture(scope="module")
def packages():
    """This checkout's package, and a later version of it for the upgrade."""
    base = open(os.path.join(ROOT, "VERSION")).read().strip()
    arch = run("dpkg", "--print-architecture").stdout.strip()
    for version in (base, base + "+1"):
        run("bash", os.path.join(ROOT, "scripts", "package.sh"), "--version", version)
    return [os.path.join(ROOT, "build", f"{PACKAGE}_{version}_{arch}.deb") for version in (base, base + "+1")]


class DebianLighttpd:
    """/usr/sbin/lighttpd with Debian's /etc/lighttpd/lighttpd.conf, in the foreground in a network
    namespace of its own, stopped by its PID. A wrapper configuration includes Debian's file and
    moves only its PID file and error log (to stderr, into `output`: lighttpd opens a log file as
    www-data, which cannot write in pytest's folders); it also sets mod_status's page (Debian's
    10-status.conf leaves it commented out) so that a test can show that this page, too, is behind
    Gatehouse."""

    def __init__(self, folder):
        self.wrapper = os.path.join(folder, "lighttpd.conf")
        self.output = os.path.join(folder, "lighttpd.log")
        with open(self.wrapper, "w") as f:
            f.write('include "/etc/lighttpd/lighttpd.conf"\n'
                    f'server.pid-file := "{folder}/lighttpd.pid"\n'
                    'server.errorlog := ""\n'
                    'status.status-url = "/server-status"\n')
        self.process = None

    def start(self):
        with open(self.output, "w") as output:
            self.process = subprocess.Popen(["unshare", "--net", "--", "sh", "-c",
                                             f"ip link set lo up && exec /usr/sbin/lighttpd -D -f {self.wrapper}"],
                                            stdout=output, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("lighttpd exited: " + self.log())
            with open(f"/proc/{self.process.pid}/net/tcp") as f:  # port 80 (0x0050), LISTEN (0A)
                if re.search(r":0050 00000000:0000 0A", f.read()):
                    return
            time.sleep(0.05)
        raise AssertionError("lighttpd did not listen on port 80: " + self.log())

    def get(self, path, token=None):
        """(status, body) of a GET from inside lighttpd's network namespace."""
        header = ["-H", f"Authorization: Bearer {token}"] if token else []
        result = run("nsenter", "--target", str(self.process.pid), "--net", "--", "curl", "-s", "-w", "\n%{http_code}",
                     *header, "http://127.0.0.1" + path)
        body, _, status = result.stdout.rpartition("\n")
        return int(status), body

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None

    def log(self):
        with open(self.output) as f:
            return f.read()


@pytest.fixture
def server(tmp_path):
    lighttpd = DebianLighttpd(str(tmp_path))
    yield lighttpd
    lighttpd.stop()


def enable_status():
    """Debian's stock 10-status.conf: mod_status answers its page itself, in the same step as
    mod_gatehouse; the 05- name of Gatehouse's file puts Gatehouse first. Returns whether this
    test enabled it (and so has to disable it)."""
    if os.path.lexists("/etc/lighttpd/conf-enabled/10-status.conf"):
        return False
    run("lighty-enable-mod", "status")
    return True


def test_lintian_finds_no_errors(packages):
    result = run("lintian", "--no-tag-display-limit", packages[0], check=False)
    tags = re.findall(r"^([EW]): \S+: (\S+)", result.stdout, re.M)
    print(result.stdout)
    assert [tag for level, tag in tags if level == "E"] == []
    assert {tag for level, tag in tags if level == "W"} <= LINTIAN_WARNINGS


def test_install_enable_upgrade_remove_purge(machine, packages, server, provider):
    first, later = packages
    status_enabled_here = enable_status()
    try:
        apt_get("install", first)
        assert package_state()[0] == "install ok installed"
        # The CLI carries the Swift runtime: nothing of the build machine's toolchain is needed.
        assert "swift" not in run("ldd", "/usr/bin/gatehouse").stdout
        keys = os.stat(KEYS)
        assert (keys.st_mode & 0o777, keys.st_uid, keys.st_gid) == (0o750, 0, grp.getgrnam("www-data").gr_gid)

        # As shipped and enabled, the module refuses every request.
        assert run("lighty-enable-mod", "gatehouse").stdout.startswith("Enabling gatehouse: ok")
        assert os.readlink(ENABLED) == "../conf-available/05-gatehouse.conf"
        run("/usr/sbin/lighttpd", "-tt", "-f", "/etc/lighttpd/lighttpd.conf")
        server.start()
        assert server.get("/")[0] == 403
        assert server.get("/server-status")[0] == 403  # served unchecked if Gatehouse came after mod_status
        server.stop()

        # The timer's service, run as systemd would: its ExecStart with the instance and ISSUER.
        with open(f"{KEYS}/test.env", "w") as f:
            f.write(f"ISSUER={provider.issuer}\n")
        unit = open(f"{UNITS}/gatehouse-jwks-fetch@.service").read()
        command = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)
        run(*command.replace("%i", "test").replace("${ISSUER}", provider.issuer).split())
        assert os.path.isfile(f"{KEYS}/test.json")
        verified = run("systemd-analyze", "verify", f"{UNITS}/gatehouse-jwks-fetch@test.timer",
                       f"{UNITS}/gatehouse-jwks-fetch@test.service", check=False)
        assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")
        run("systemctl", "enable", "gatehouse-jwks-fetch@test.timer")
        assert os.path.islink("/etc/systemd/system/timers.target.wants/gatehouse-jwks-fetch@test.timer")

        # The administrator's policy, written into the conffile in place of the deny-all line.
        with open(CONFFILE) as f:
            shipped = f.read()
        policy = shipped.replace('gatehouse.require = ( "/" => "deny" )\n', f"""\
gatehouse.issuer     = "{provider.issuer}"
gatehouse.audience   = "package-test"
gatehouse.jwks       = "{KEYS}/test.json"
gatehouse.status-url = "/gatehouse-status"
gatehouse.require    = ( "/gatehouse-status" => "role:admin", "/server-status" => "role:admin" )
""")
        assert policy != shipped
        with open(CONFFILE, "w") as f:
            f.write(policy)
        run("/usr/sbin/lighttpd", "-tt", "-f", "/etc/lighttpd/lighttpd.conf")
        admin = provider.token("alice", "package-test", roles=["admin"])
        viewer = provider.token("victor", "package-test", roles=["viewer"])
        server.start()
        assert server.get("/gatehouse-status")[0] == 401
        assert server.get("/gatehouse-status", viewer)[0] == 403
        status, body = server.get("/gatehouse-status", admin)
        assert status == 200 and "gatehouse_decisions_total" in body
        assert server.get("/server-status")[0] == 401
        assert server.get("/server-status", admin)[0] == 200
        assert server.get("/", admin)[0] == 403  # no rule: gatehouse.default
        server.stop()

        # Man pages: gatehouse(1), one per subcommand, mod_gatehouse(5) from docs/configuration.md.
        for page, text in ((["gatehouse"], "gatehouse"), (["gatehouse.jwks.fetch"], "--issuer"),
                           (["5", "mod_gatehouse"], "gatehouse.issuer")):
            shown = run("man", "-P", "cat", *page, env={**os.environ, "MANWIDTH": "80"})
            assert text in shown.stdout and shown.stderr == "", page

        # An upgrade keeps the changed conffile, the enabled module and the keys.
        apt_get("install", later)
        assert package_state() == ("install ok installed", os.path.basename(later).split("_")[1])
        assert open(CONFFILE).read() == policy
        assert os.path.islink(ENABLED) and os.path.isfile(f"{KEYS}/test.json")

        # Remove: the module goes, and so does the link that would make lighttpd load it.
        apt_get("remove", PACKAGE)
        assert not os.path.exists("/usr/lib/lighttpd/mod_gatehouse.so")
        assert not os.path.lexists(ENABLED) and os.path.exists(CONFFILE)
        run("/usr/sbin/lighttpd", "-tt", "-f", "/etc/lighttpd/lighttpd.conf")

        # Purge: nothing is left of the package, its keys or its timers.
        apt_get("purge", PACKAGE)
    finally:
        server.stop()
        if status_enabled_here:
            run("lighty-disable-mod", "status", check=False)
    after = listing(WATCHED)
    assert {path for path in after if path not in machine} == set()
    assert {path for path in machine if path not in after} == set()
    assert listing_of(after, "/etc/lighttpd") == listing_of(machine, "/etc/lighttpd")
