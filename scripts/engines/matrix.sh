#!/usr/bin/env bash
# scripts/engines/matrix.sh — run the engines suite with runc, then with tsrunc,
# and write test/engines/RESULTS.md (the engine x feature table of both runs).
#   TSRUNC_BIN=/path/to/dist/tsrunc  measure another tsrunc build (a copy of
#                                    dist/ and prebuilds/ keeps a rebuild
#                                    during the run from mixing builds)
# The reports stay in $ENGINES_REPORTS (default: a temp dir, printed at the end).
# Exit status: non-zero when either run failed.
set -uo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
reports=${ENGINES_REPORTS:-$(mktemp -d /tmp/tsrunc-engines-reports-XXXXXX)}
mkdir -p "$reports"
bash scripts/engines/setup.sh || exit 1
rc=0
for rt in runc tsrunc; do
  printf '\n==== engines with %s\n' "$rt" >&2
  t0=$SECONDS
  ENGINES_SETUP=0 ENGINE_RUNTIME=$rt vitest run --config test/engines/vitest.config.ts \
    --reporter=default --reporter=json --outputFile.json="$reports/$rt.json" || rc=$?
  printf '==== engines with %s: %ss\n' "$rt" $((SECONDS - t0)) >&2
done
node scripts/engines/results.mjs "$reports/runc.json" "$reports/tsrunc.json" test/engines/RESULTS.md
echo "reports: $reports" >&2
exit "$rc"
