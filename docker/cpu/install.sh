#!/bin/sh
# Arranges the CPU image (runs as root during the build): the llama.cpp server, prebuilt from
# the build context or compiled here; the model; the app user and its cache folder.
#   install.sh LLAMA_CPP_REQUIREMENT APP_UID
set -eu
requirement=$1
uid=$2
context=$(dirname "$0")

useradd --uid "$uid" --create-home --home-dir "/home/$APP_USER" --shell /bin/bash "$APP_USER"
mkdir -p "$LLAMA_SERVER_HOME" "$APP_HOME"
if [ -x "$context/prebuilt/bin/llama-server" ]; then
    echo "llama-server: prebuilt, from the build context"
    cp -a "$context/prebuilt/." "$LLAMA_SERVER_HOME/"
else
    echo "llama-server: no prebuilt binary in the build context; compiling $requirement"
    sh "$context/compile_llama_server.sh" "$requirement" "$LLAMA_SERVER_HOME" "$context"
fi
if ! ldconfig -p | grep -q 'libgomp\.so\.1'; then
    apt-get update
    apt-get install -y --no-install-recommends libgomp1
    rm -rf /var/lib/apt/lists/*
fi
"$LLAMA_SERVER_HOME/bin/llama-server" --version

if ! ls "$context"/models/*.gguf >/dev/null 2>&1; then
    echo "install.sh: no .gguf file in the build context's models/" >&2
    exit 1
fi
cp -a "$context/models" "$APP_HOME/models"
cp -a "$context/src" "$APP_HOME/src"
chmod 0755 "$APP_HOME/src/entrypoint.sh"

mkdir -p "$CACHE_ROOT"
chown -R "$APP_USER:$APP_USER" "/home/$APP_USER"
