"""The examples/ configurations made to run here: each installation-specific `var.` line given a
local value (ports, issuer, key file, state folder)."""
import json
import os
import re

from gatehouse_testkit.paths import ROOT


def configure(name, out, **values):
    """Writes examples/NAME.conf to OUT with each `var.NAME = …` line given a new value."""
    with open(os.path.join(ROOT, "examples", f"{name}.conf")) as f:
        text = f.read()
    for var, value in values.items():
        literal = str(value) if isinstance(value, int) else json.dumps(value)
        text, count = re.subn(rf"^var\.{var}\s*=.*$", lambda _: f"var.{var} = {literal}", text, flags=re.M)
        if count != 1:
            raise ValueError(f"examples/{name}.conf has no single var.{var} line")
    with open(out, "w") as f:
        f.write(text)
