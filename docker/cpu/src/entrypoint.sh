#!/bin/sh
# The CPU server image's entrypoint, with the Tenstorrent image's contract:
#   entrypoint.sh --model HF_REPO [--device cpu] [--service-port PORT] [--no-auth]
#                 [--disable-trace-capture] [--max-context TOKENS] [--parallel SLOTS]
#                 [--threads N]
# The API key comes from $API_KEY (required unless --no-auth). The weights: the GGUF under
# $MODEL_WEIGHTS_DIR when it is set (a mounted host folder), else the one in the image.
set -eu

fail() {
    echo "entrypoint: $*" >&2
    exit 2
}

model=""
port="${SERVICE_PORT:-8000}"
context=4096
parallel=1
threads=0
auth=1
while [ $# -gt 0 ]; do
    case "$1" in
        --model) model=${2:?--model needs a value}; shift 2 ;;
        --device | --tt-device) shift 2 ;;
        --service-port) port=${2:?--service-port needs a value}; shift 2 ;;
        --no-auth) auth=0; shift ;;
        --disable-trace-capture) shift ;;
        --max-context) context=${2:?--max-context needs a value}; shift 2 ;;
        --parallel) parallel=${2:?--parallel needs a value}; shift 2 ;;
        --threads) threads=${2:?--threads needs a value}; shift 2 ;;
        *) fail "unknown argument '$1'" ;;
    esac
done
[ -n "$model" ] || fail "--model is required"

weights_dir="${MODEL_WEIGHTS_DIR:-$APP_HOME/models}"
gguf=""
for candidate in "$weights_dir"/*.gguf; do
    [ -f "$candidate" ] && gguf=$candidate && break
done
if [ -z "$gguf" ]; then
    echo "entrypoint: no .gguf file in $weights_dir" >&2
    exit 1
fi

if [ "$auth" = 1 ]; then
    [ -n "${API_KEY:-}" ] || fail "set API_KEY, or pass --no-auth"
    LLAMA_API_KEY=$API_KEY
    export LLAMA_API_KEY
fi
unset API_KEY

echo "entrypoint: serving $gguf as $model on port $port, $parallel slots of $context tokens"
exec python3 -I "$APP_HOME/src/llama_server.py" \
    --model "$gguf" \
    --alias "$model" \
    --host 0.0.0.0 \
    --port "$port" \
    --parallel "$parallel" \
    --context-per-slot "$context" \
    --threads "$threads"
