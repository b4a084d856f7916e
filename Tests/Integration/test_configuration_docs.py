"""docs/configuration.md has, for every directive of the registry (gatehouse.h's
GH_V1_DIRECTIVES list, which the core checks its Directives.swift against at startup), a section
whose table gives its Value, Default and Errors."""
import os
import re

from gatehouse_testkit.paths import ROOT


def registry():
    with open(os.path.join(ROOT, "Sources", "CGatehouse", "include", "gatehouse.h")) as f:
        return re.findall(r'^\s*X\(\w+, "(gatehouse\.[a-z-]+)", GH_V1_SCOPE_\w+\)', f.read(), re.M)


def sections():
    """Each `### ` section of the directive reference: its heading and its text."""
    with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
        text = f.read()
    return re.findall(r"^### ([^\n]+)\n(.*?)(?=^##)", text, re.M | re.S)


def table_rows(body):
    return {match.strip() for match in re.findall(r"^\| *([A-Za-z ]+?) *\|", body, re.M)}


def test_the_registry_is_read():
    names = registry()
    assert len(names) >= 41 and "gatehouse.issuer" in names and "gatehouse.sign-in-timeout" in names


def test_every_directive_has_a_value_default_and_errors_table():
    found = sections()
    missing = []
    for name in registry():
        own = [body for heading, body in found if re.search(rf"`?{re.escape(name)}`?(?![a-z-])", heading)]
        if not own:
            missing.append(f"{name}: no ### section names it")
            continue
        rows = set().union(*(table_rows(body) for body in own))
        lacking = {"Value", "Default", "Errors"} - rows
        if lacking:
            missing.append(f"{name}: its section's table has no {', '.join(sorted(lacking))} row")
    assert not missing, "\n".join(missing)
