"""Stands in for a GPU run of an exported recipe: results.json written by the recipe's own train.py functions
(new_results, base_summary, run_record, write_results) from deterministic made-up probabilities, so the lab's
import can be tested here, where there is no torch. Also prints the prompts labmath.py renders for the exported
test sets, for a byte-for-byte comparison with the lab's.

    python3 tests/python/fake_recipe_run.py <exported recipe folder> <output folder>
"""
import hashlib
import importlib.util
import json
import os
import sys

recipe, out = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("recipe_train", os.path.join(recipe, "train.py"))
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)
lm = train.lm
cfg = train.load_config()
tests = {s: train.read_jsonl(os.path.join(recipe, "tests", f"{s}.jsonl")) for s in cfg["testSets"]}
fewshot = train.read_jsonl(os.path.join(recipe, "fewshot.jsonl"))
hashes = {d["name"]: train.dataset_hash(train.read_jsonl(os.path.join(recipe, "datasets", f"{d['name']}.jsonl"))) for d in cfg["datasets"]}


def probs(qid, salt):
    h = hashlib.sha256(f"{qid}/{salt}".encode()).digest()
    w = [h[i] + 1 for i in range(4)]
    return [x / sum(w) for x in w]


ev = cfg["evaluation"]
samples, bseed = ev["bootstrapSamples"], ev["bootstrapSeed"]
env = {**train.versions(), "processes": 2, "fsdp": False, "deviceMap": None}
results = train.new_results(cfg, "org/fake-7b", "main", "letter", samples, bseed, env)
results["baseScores"] = {p["name"]: {s: [probs(q["id"], "base/" + p["name"]) for q in qs] for s, qs in tests.items()} for p in cfg["protocols"]}
results["base"] = train.base_summary(results["baseScores"], tests, samples, bseed)
for run in cfg["runs"]:
    tuned = {p["name"]: {s: [probs(q["id"], run["runId"] + p["name"]) for q in qs] for s, qs in tests.items()} for p in cfg["protocols"]}
    trained = {"steps": 3, "finalLoss": 0.5, "losses": [1.0, 0.7, 0.5], "seconds": 1.0}
    results["runs"].append(train.run_record(run, trained, f"{run['runId']}/adapter", cfg, results["baseScores"], tuned, tests, samples, bseed))
results["finishedAt"] = train.now_iso()
os.makedirs(out, exist_ok=True)
train.write_results(os.path.join(out, "results.json"), results)
print(json.dumps({
    "hashes": hashes,
    "prompts": {s: [{"chat": lm.chat_user_text(q), "kshot": lm.kshot_text(q, fewshot, p["base"].get("shots", 0))} for q in qs] for s, qs in tests.items() for p in cfg["protocols"][:1]},
}))
