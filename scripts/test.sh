#!/usr/bin/env bash
# scripts/test.sh — set up (packages, node_modules, build, rootfs), then run the tests.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"  # Node 24 for anything the tests spawn
npm test
