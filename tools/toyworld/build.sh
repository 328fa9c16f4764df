#!/bin/sh
# Rebuilds the shipped toy-world model (public/models/toy-world/) from seed 42, on the CPU (~30 min on
# 2 shared cores). Two phases: a mixed corpus until the facts are memorised (the run is stopped at step
# 700 of a 1000-step cosine schedule), then a corpus weighted towards multiple-choice documents, from
# those weights, so that answering by letter forms.
set -e
cd "$(dirname "$0")/../.."
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread
TMP=${TMPDIR:-/tmp}/ift-lab-toyworld
node tools/toyworld/make-corpus.mjs --out "$TMP/corpus.json" --tokens 5500000
nice /usr/bin/python3 tools/toyworld/pretrain.py --corpus "$TMP/corpus.json" --steps 1000 --stop-at 700 --out "$TMP/phase1"
node tools/toyworld/make-corpus.mjs --out "$TMP/corpus2.json" --tokens 4000000 --mix statements=20,entity=6,exists=3,mc=60,chat=14
nice /usr/bin/python3 tools/toyworld/pretrain.py --corpus "$TMP/corpus2.json" --init "$TMP/phase1/model.safetensors" --steps 700 --lr 4e-3 --warmup 30
