#!/usr/bin/env bash
# Puts Debian's own Node.js (18.x on bookworm) into DIR without installing it:
# the project's Node (e.g. nodesource's nodejs package at /usr/bin/node) stays
# where it is. The bundle's minimum Node is tested with it
# (docs/node-on-smartos.md). Prints the wrapper to run: DIR/node.
#
#   scripts/old-node.sh /tmp/esdc-old-node && export ESDC_OVERLAY_OLD_NODE=/tmp/esdc-old-node/node
#
# Debian's node loads acorn, cjs-module-lexer and undici from /usr/share/nodejs:
# those three packages hold only JavaScript files there and are installed
# normally (they replace nothing of another Node).
set -euo pipefail
dir=${1:?usage: scripts/old-node.sh DIR}
# Debian's own build, whatever its point release today: libnode108 exists only for Debian's Node 18,
# so its version names the matching nodejs (a newer nodejs from another repository is never picked).
version=${ESDC_OLD_NODE_DEB_VERSION:-$(apt-cache madison libnode108 | awk 'NR == 1 { print $3 }')}
[ -n "$version" ] || { echo "old-node: no libnode108 in the apt lists (run apt-get update)" >&2; exit 1; }
mkdir -p "${dir:?}/debs" "${dir:?}/root"
cd "${dir:?}/debs"
apt-get download -qq "nodejs=${version}" "libnode108=${version}" libc-ares2 2>/dev/null
for deb in ./*.deb; do dpkg -x "$deb" "${dir:?}/root"; done
apt-get install -y -qq --no-install-recommends node-acorn node-cjs-module-lexer node-undici >/dev/null
cat > "${dir:?}/node" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH=${dir}/root/usr/lib/x86_64-linux-gnu exec ${dir}/root/usr/bin/node "\$@"
WRAP
chmod 755 "${dir:?}/node"
"${dir:?}/node" --version >/dev/null
echo "${dir}/node"
