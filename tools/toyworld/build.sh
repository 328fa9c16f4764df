#!/bin/sh
# Rebuilds the shipped toy-world model (public/models/toy-world/) from the seed: ~8 min on 2 CPU cores.
set -e
cd "$(dirname "$0")/../.."
node tools/toyworld/make-corpus.mjs "$@"
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread nice /usr/bin/python3 tools/toyworld/pretrain.py
