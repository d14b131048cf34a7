#!/usr/bin/env bash
# Refresh the vendored front-end assets (USWDS and htmx) from the npm registry.
# The results are committed under searchledger/static/vendor so that neither `make demo`
# nor CI needs npm; run this only to upgrade a version, then commit the diff.
set -euo pipefail
USWDS_VERSION=${USWDS_VERSION:-3.14.0}
HTMX_VERSION=${HTMX_VERSION:-2.0.11}
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/searchledger/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "@uswds/uswds@$USWDS_VERSION" "htmx.org@$HTMX_VERSION" >/dev/null
mkdir u h
tar xzf "uswds-uswds-$USWDS_VERSION.tgz" -C u
tar xzf "htmx.org-$HTMX_VERSION.tgz" -C h
rm -rf "$dest/uswds" "$dest/htmx"
mkdir -p "$dest/uswds/css" "$dest/uswds/js" "$dest/htmx"
dist=u/package/dist
cp "$dist/css/uswds.min.css" "$dest/uswds/css/"
cp "$dist/js/uswds.min.js" "$dist/js/uswds-init.min.js" "$dest/uswds/js/"
# Copy only the fonts and images that the stylesheet or our templates reference.
{
  grep -o 'url([^)]*)' "$dist/css/uswds.min.css" | sed 's/url(//;s/)//' | tr -d "\"'" \
    | grep '^\.\./' | sed 's/?.*//;s#^\.\./##'
  printf '%s\n' img/sprite.svg img/us_flag_small.png img/icon-dot-gov.svg img/icon-https.svg \
    img/lock.svg img/usa-icons/lock.svg
} | sort -u | while read -r rel; do
  [ -f "$dist/$rel" ] || continue
  mkdir -p "$dest/uswds/$(dirname "$rel")"
  cp "$dist/$rel" "$dest/uswds/$rel"
done
cp u/package/LICENSE.md "$dest/uswds/LICENSE.md"
cp h/package/dist/htmx.min.js "$dest/htmx/"
cp h/package/LICENSE "$dest/htmx/LICENSE"
printf 'uswds %s\nhtmx.org %s\n' "$USWDS_VERSION" "$HTMX_VERSION" > "$dest/VERSIONS"
echo "vendored into $dest"
