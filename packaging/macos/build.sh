#!/usr/bin/env bash
# Build rnnlab on macOS: rnnlab.app with PyInstaller, then a compressed .dmg with hdiutil.
#   packaging/macos/build.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
"$PY" -m pip install --quiet . "pyinstaller>=6" pyinstaller-hooks-contrib
VERSION="$("$PY" -c 'import rnnlab; print(rnnlab.__version__)')"
DIST="$ROOT/packaging/dist"
"$PY" -m PyInstaller --noconfirm --clean --distpath "$DIST" --workpath "$ROOT/packaging/build" \
    "$ROOT/packaging/rnnlab.spec"
"$DIST/rnnlab.app/Contents/MacOS/rnnlab" selftest
STAGE="$(mktemp -d)"
cp -R "$DIST/rnnlab.app" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "rnnlab $VERSION" -srcfolder "$STAGE" -ov -format UDZO "$DIST/rnnlab-$VERSION-macos.dmg"
rm -rf "$STAGE"
echo "dmg: $DIST/rnnlab-$VERSION-macos.dmg"
