"""Where things are: the repository, the lighttpd binary, the built module directory and CLI."""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LIGHTTPD = "/usr/sbin/lighttpd"
MODULES = os.path.join(ROOT, "build", "modules")
GATEHOUSE = os.path.join(ROOT, "build", "gatehouse")
