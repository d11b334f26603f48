#!/bin/sh
# Arranges the CPU image (runs as root during the build): the engine (the xllamacpp package from
# the build context) in the system Python's site-packages; the model; the app user and its cache.
#   install.sh ENGINE_REQUIREMENT APP_UID
set -eu
requirement=$1
uid=$2
context=$(dirname "$0")

command -v python3 >/dev/null || { echo "install.sh: the base image has no python3" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    { echo "install.sh: the engine needs python3 >= 3.10 in the base image" >&2; exit 1; }
useradd --uid "$uid" --create-home --home-dir "/home/$APP_USER" --shell /bin/bash "$APP_USER"
mkdir -p "$APP_HOME"

if [ ! -f "$context/engine/xllamacpp/__init__.py" ]; then
    echo "install.sh: no xllamacpp package in the build context's engine/ ($requirement)" >&2
    exit 1
fi
site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mkdir -p "$site"
cp -a "$context/engine/." "$site/"
echo "engine: $requirement into $site"
if ! ldconfig -p | grep -q 'libgomp\.so\.1'; then
    apt-get update
    apt-get install -y --no-install-recommends libgomp1
    rm -rf /var/lib/apt/lists/*
fi

if ! ls "$context"/models/*.gguf >/dev/null 2>&1; then
    echo "install.sh: no .gguf file in the build context's models/" >&2
    exit 1
fi
cp -a "$context/models" "$APP_HOME/models"
cp -a "$context/src" "$APP_HOME/src"
chmod 0755 "$APP_HOME/src/entrypoint.sh"
python3 -I "$APP_HOME/src/llama_server.py" --version

mkdir -p "$CACHE_ROOT"
chown -R "$APP_USER:$APP_USER" "/home/$APP_USER"
