#!/bin/sh
# Rebuilds the shipped toy-world model (public/models/toy-world/) and its reference logits
# (tests/fixtures/toy-world-reference.json) from seed 42, on the CPU with PyTorch (~25 min on 2 cores,
# two threads). Four phases: (1) the default corpus until the facts are memorised (800 steps of a 1300-step
# cosine schedule; MC answering stays at chance), (2) a corpus weighted towards multiple-choice documents
# (the facts reach cloze ≈ 97 %, MC still at chance), (3) a fresh MC-weighted corpus with the answer
# letters weighing 10 in the loss: the right option's content is preferred (drilled facts 99.6 % debiased)
# but its letter is read only half the time, (4) another fresh corpus of the same kind: reading the
# letter forms within ~200 steps (drilled 100 %).
set -e
cd "$(dirname "$0")/../.."
export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread
TMP=${TMPDIR:-/tmp}/ift-lab-toyworld
MIX=statements=22,entity=6,exists=2,mc=70
node tools/toyworld/make-corpus.mjs --out "$TMP/corpus.json" --tokens 6700000
nice /usr/bin/python3 tools/toyworld/pretrain.py --corpus "$TMP/corpus.json" --steps 1300 --stop-at 800 --eval-every 200 --threads 2 \
  --out "$TMP/phase1" --reference "$TMP/phase1/reference.json"
node tools/toyworld/make-corpus.mjs --out "$TMP/corpus2.json" --tokens 3000000 --corpus-seed 77000 --mix $MIX
nice /usr/bin/python3 tools/toyworld/pretrain.py --corpus "$TMP/corpus2.json" --init "$TMP/phase1/model.safetensors" \
  --steps 600 --lr 4e-3 --warmup 30 --eval-every 100 --threads 2 --out "$TMP/phase2" --reference "$TMP/phase2/reference.json"
node tools/toyworld/make-corpus.mjs --out "$TMP/corpus3.json" --tokens 2500000 --corpus-seed 88000 --mix $MIX
nice /usr/bin/python3 tools/toyworld/pretrain.py --corpus "$TMP/corpus3.json" --init "$TMP/phase2/model.safetensors" \
  --steps 500 --lr 4e-3 --warmup 20 --answer-weight 10 --eval-every 100 --threads 2 --out "$TMP/phase3" --reference "$TMP/phase3/reference.json"
node tools/toyworld/make-corpus.mjs --out "$TMP/corpus4.json" --tokens 3000000 --corpus-seed 99000 --mix $MIX
nice /usr/bin/python3 tools/toyworld/pretrain.py --corpus "$TMP/corpus4.json" --init "$TMP/phase3/model.safetensors" \
  --steps 700 --lr 4e-3 --warmup 20 --answer-weight 10 --eval-every 100 --threads 2
