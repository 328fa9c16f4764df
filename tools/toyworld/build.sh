#!/bin/sh
# Rebuilds the shipped toy-world model (public/models/toy-world/) and its reference logits
# (tests/fixtures/toy-world-reference.json) from seed 42, on the CPU with PyTorch: one phase of
# 1300 steps × 32 × 160 tokens (about 20–30 min on 2 shared cores; see the model's README).
set -e
cd "$(dirname "$0")/../.."
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread
TMP=${TMPDIR:-/tmp}/ift-lab-toyworld
node tools/toyworld/make-corpus.mjs --out "$TMP/corpus.json" --tokens 6700000
nice /usr/bin/python3 tools/toyworld/pretrain.py --corpus "$TMP/corpus.json" --steps 1300 --eval-every 200
