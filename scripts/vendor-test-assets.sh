#!/usr/bin/env bash
# Refresh the vendored test-only assets (axe-core, which the browser tests inject to check
# pages for accessibility violations) from the npm registry. The result is committed under
# tests/browser/vendor so that CI needs no npm; run this only to upgrade, then commit.
set -euo pipefail
AXE_VERSION=${AXE_VERSION:-4.14.1}
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/tests/browser/vendor/axe-core"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "axe-core@$AXE_VERSION" >/dev/null
tar xzf "axe-core-$AXE_VERSION.tgz"
rm -rf "$dest"
mkdir -p "$dest"
cp package/axe.min.js package/LICENSE package/LICENSE-3RD-PARTY.txt "$dest/"
printf 'axe-core %s\n' "$AXE_VERSION" > "$dest/VERSION"
echo "vendored into $dest"
