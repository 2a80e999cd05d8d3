#!/usr/bin/env bash
# Fetch pinned third-party browser libraries into pwa/vendor/.
# Each package is fetched with `npm pack NAME@VERSION` (registry tarball, integrity-checked by npm),
# only the files the PWA loads plus the licence are copied, and pwa/vendor/README.md is rewritten.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/pwa/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

command -v npm >/dev/null || { echo "npm is required" >&2; exit 1; }

# name|version|licence|files: each file is "path/in/package:path/in/vendor-dir" (kept flat: no build/ dirs)
PACKAGES=(
  "idb|8.0.4|ISC|build/index.js:index.js"
  "leaflet|1.9.4|BSD-2-Clause|dist/leaflet.js:leaflet.js dist/leaflet.css:leaflet.css"
  "tus-js-client|4.3.1|MIT|dist/tus.min.js:tus.min.js"
  "jsqr|1.4.0|Apache-2.0|dist/jsQR.js:jsQR.js"
)

readme="$VENDOR/README.md"
mkdir -p "$VENDOR"

{
  echo "# Vendored browser libraries"
  echo
  echo "Fetched by \`scripts/fetch_vendor.sh\` with \`npm pack\`; do not edit by hand."
  echo
  echo "| name | version | licence | source | files |"
  echo "|---|---|---|---|---|"
} > "$readme.tmp"

for entry in "${PACKAGES[@]}"; do
  IFS='|' read -r name version licence files <<<"$entry"
  dest="$VENDOR/$name-$version"
  pkgdir="$WORK/$name"
  mkdir -p "$pkgdir"
  (cd "$pkgdir" && npm pack --silent "$name@$version" >/dev/null)
  tarball="$(ls "$pkgdir"/*.tgz)"
  tar -xzf "$tarball" -C "$pkgdir"
  got="$(node -p "require('$pkgdir/package/package.json').version")"
  [[ "$got" == "$version" ]] || { echo "$name: expected $version, got $got" >&2; exit 1; }
  gotlic="$(node -p "require('$pkgdir/package/package.json').license")"
  [[ "$gotlic" == "$licence" ]] || { echo "$name: expected licence $licence, got $gotlic" >&2; exit 1; }
  rm -rf "$dest"
  mkdir -p "$dest"
  copied=()
  for f in $files; do
    src="${f%%:*}"
    dst="${f#*:}"
    mkdir -p "$dest/$(dirname "$dst")"
    cp "$pkgdir/package/$src" "$dest/$dst"
    copied+=("$dst (from $src)")
  done
  lic="$(cd "$pkgdir/package" && ls | grep -iE '^(licen[cs]e|copying)' | head -n1 || true)"
  [[ -n "$lic" ]] || { echo "$name: no licence file in package" >&2; exit 1; }
  cp "$pkgdir/package/$lic" "$dest/LICENSE"
  sha="$(sha256sum "$tarball" | cut -d' ' -f1)"
  echo "| $name | $version | $licence | npm registry, \`npm pack $name@$version\` (tarball sha256 \`$sha\`) | $(IFS=,; echo "${copied[*]}" | sed 's/,/, /g'), LICENSE |" >> "$readme.tmp"
  echo "vendored $name@$version -> ${dest#"$ROOT"/}"
done

mv "$readme.tmp" "$readme"
