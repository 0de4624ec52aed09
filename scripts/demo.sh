#!/usr/bin/env bash
# The main job on the bundled example: validate the state, list its rules,
# render every node's files, and show one node's share.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/esdc-overlay.js ] || npm run build >/dev/null
cli() { node dist/esdc-overlay.js "$@"; }
state=examples/two-sites.yaml
out=$(mktemp -d -t esdc-overlay-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT

echo "== validate"; cli --state "$state" validate
echo; echo "== list"; cli --state "$state" list
echo; echo "== render --out $out/render"; cli --state "$state" render --out "$out/render"
echo; echo "== files of cn01.prg.example.com"
(cd "$out/render/cn01.prg.example.com" && find . -type f | sort | sed 's|^\./|  |')
echo; echo "== cn01.prg.example.com: usbkey/config.overlay"; cat "$out/render/cn01.prg.example.com/usbkey/config.overlay"
echo; echo "== cn01.prg.example.com: commands.sh"; cat "$out/render/cn01.prg.example.com/commands.sh"
