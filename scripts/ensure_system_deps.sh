#!/usr/bin/env bash
# Make sure the system packages napari needs to draw under a virtual screen are present:
# Xvfb, Mesa OpenGL and the xcb libraries of Qt 5. Installs them with apt-get when they
# are missing and we may (root, or password-less sudo); otherwise says what to install.
set -euo pipefail
PKGS=(xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0
      libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xinput0
      libxcb-xfixes0 libxcb-shape0 libxcb-cursor0 libdbus-1-3)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  command -v xvfb-run >/dev/null 2>&1 || missing+=(xvfb)
fi
[ ${#missing[@]} -eq 0 ] && { echo "system packages for the GUI tests: present"; exit 0; }

echo "installing system packages for the GUI tests: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
  echo "error: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: no apt-get here; install Xvfb, Mesa and the Qt xcb libraries: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
