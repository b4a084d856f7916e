#!/usr/bin/env bash
# Everything, from a fresh Debian 12 (as root): install what is needed, build
# the module and the CLI, run the Swift unit tests and the mutation test, then the integration tests
# against the real /usr/sbin/lighttpd (the end-to-end ones included), then check the Swift formatting.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
bash scripts/build.sh
swift test
bash scripts/mutate.sh
python3 -m pytest -q -p no:cacheprovider Tests/Integration
# The repository's .swift-format; --strict makes every finding an error (fix them with
# `swift format -i -r Sources Tests Fuzz Package.swift`).
swift format lint --strict --configuration .swift-format -r Sources Tests Fuzz Package.swift
