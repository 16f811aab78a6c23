#!/usr/bin/env bash
# Regenerates types/ from the WIT with jco (pinned; 1.35's guest-types
# cannot read a WIT directory here, 1.15 can). Run from sdk/js after a WIT
# change, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r ../../wit/lectern-plugin@0.2.0 "$work/wit"
(cd "$work" && npm init -y >/dev/null && npm install --no-audit --no-fund --save-exact @bytecodealliance/jco@1.15.0 >/dev/null)
rm -rf types && mkdir -p types/interfaces
for world in grading proctoring content tutoring activity question-type observer; do
  (cd "$work" && node_modules/.bin/jco guest-types wit -n "$world-plugin" --all-features -q -o "out/$world")
  cp "$work/out/$world/interfaces/"*.d.ts types/interfaces/
  cp "$work/out/$world/$world-plugin.d.ts" types/
done
echo "types/ regenerated from lectern:plugin@0.2.0"
