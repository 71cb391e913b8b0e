#!/usr/bin/env bash
# Re-vendors the browser libraries from the npm registry into server/static/vendor.
# The built files are committed, so a hall's server never needs npm or the internet.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --silent
mkdir -p server/static/vendor
cp node_modules/socket.io-client/dist/socket.io.min.js server/static/vendor/socket.io.min.js
cp node_modules/socket.io-client/LICENSE server/static/vendor/socket.io.LICENSE
# jsQR: the kiosk's QR decoder where the browser has no BarcodeDetector (Chromium on Linux).
cp node_modules/jsqr/dist/jsQR.js server/static/vendor/jsQR.js
cp node_modules/jsqr/LICENSE server/static/vendor/jsQR.LICENSE
echo "vendored: socket.io-client $(node -p "require('./node_modules/socket.io-client/package.json').version")"
echo "vendored: jsqr $(node -p "require('./node_modules/jsqr/package.json').version")"
