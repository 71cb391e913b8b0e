#!/usr/bin/env bash
# Re-vendors the browser libraries from the npm registry into server/static/vendor.
# The built files are committed, so a hall's server never needs npm or the internet.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --silent
mkdir -p server/static/vendor
cp node_modules/socket.io-client/dist/socket.io.min.js server/static/vendor/socket.io.min.js
cp node_modules/socket.io-client/LICENSE server/static/vendor/socket.io.LICENSE
echo "vendored: socket.io-client $(node -p "require('./node_modules/socket.io-client/package.json').version")"
