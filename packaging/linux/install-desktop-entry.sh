#!/usr/bin/env bash
# Run from the unpacked rnnlab folder: adds rnnlab to the desktop menu of the current user.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$HOME/.local/share/applications" "$HOME/.local/share/icons/hicolor/256x256/apps"
cp "$HERE/rnnlab.png" "$HOME/.local/share/icons/hicolor/256x256/apps/rnnlab.png"
sed "s|^Exec=rnnlab|Exec=$HERE/rnnlab|" "$HERE/rnnlab.desktop" > "$HOME/.local/share/applications/rnnlab.desktop"
echo "rnnlab added to the applications menu"
