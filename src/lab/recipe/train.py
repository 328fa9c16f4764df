#!/usr/bin/env python3
"""Runs an IFT Lab experiment grid with Hugging Face transformers + PEFT + TRL, e.g. on a 7B model on a GPU.

Exported by IFT Lab (src/lab/recipe.ts): the datasets, test sets, few-shot examples and hyper-parameters
are the ones the lab used; only the model may be swapped (--model). LoRA, as in the lab (the paper
fine-tunes all weights). The loss is on the assistant tokens only (prompt-completion data, TRL's
completion-only loss). Scoring is the lab's: softmax over the next-token logits of the four option
letters, renormalised; consistency C is the mean per-question Spearman (dense ranks) of base vs tuned.

  pip install "torch>=2.3" "transformers>=4.51" "peft>=0.15" "trl>=0.20" datasets
  python train.py [--model mistralai/Mistral-7B-v0.1] [--out runs] [--only harmonious-s42 ...]
"""
import argparse
import json
import math
import os

import torch
from datasets import load_dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

HERE = os.path.dirname(os.path.abspath(__file__))
CFG = json.load(open(os.path.join(HERE, "config.json"), encoding="utf-8"))
LETTERS = "ABCD"
# A base model without a chat template gets ChatML, so that training and 0-shot scoring share one format.
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def header(subject):
    return f"The following are multiple choice questions about {subject.replace('_', ' ')}.\n\n"


def fmt(q):
    return q["question"] + "".join(f"\n{l}. {o}" for l, o in zip(LETTERS, q["options"])) + "\nAnswer:"


def letter_ids(tok, context, letters):
    base = tok(context, add_special_tokens=False).input_ids
    ids = []
    for l in letters:
        full = tok(context + l, add_special_tokens=False).input_ids
        if len(full) != len(base) + 1 or full[: len(base)] != base:
            raise SystemExit(f"{l!r} is not a single token after {context[-20:]!r}; letter scoring needs one")
        ids.append(full[-1])
    return ids


@torch.no_grad()
def score(model, tok, questions, fmt_spec, fewshot):
    """Per question, the four option probabilities (letter softmax renormalised over A-D)."""
    model.eval()
    if fmt_spec["kind"] == "chat":
        gen = tok.apply_chat_template([{"role": "user", "content": "Answer:"}], tokenize=False, add_generation_prompt=True)
        cand = letter_ids(tok, gen, list(LETTERS))
    else:
        cand = letter_ids(tok, "Answer:", [" " + l for l in LETTERS])
    bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
    out = []
    for q in questions:
        if fmt_spec["kind"] == "chat":
            text = tok.apply_chat_template([{"role": "user", "content": header(q["subject"]) + fmt(q)}], tokenize=False, add_generation_prompt=True)
            ids = tok(text, add_special_tokens=False).input_ids
        else:
            shots = [e for e in fewshot if e["subject"] == q["subject"] and e["id"] != q["id"]][: fmt_spec["shots"]]
            text = header(q["subject"]) + "".join(fmt(e) + f" {LETTERS[e['answer']]}\n\n" for e in shots) + fmt(q)
            ids = bos + tok(text, add_special_tokens=False).input_ids
        logits = model(input_ids=torch.tensor([ids], device=model.device)).logits[0, -1].float()
        out.append(torch.softmax(torch.log_softmax(logits, -1)[cand], -1).tolist())
    return out


def dense_rank(xs):
    u = sorted(set(xs))
    return [u.index(x) + 1 for x in xs]


def pearson(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    return 0.0 if sxx == 0 or syy == 0 else sxy / math.sqrt(sxx * syy)


def summarize(base, tuned, qs):
    def group(idx):
        if not idx:
            return {"n": 0}
        argmax = lambda p: max(range(4), key=lambda i: p[i])
        kl = lambda p, q: sum(a * math.log(a / max(b, 1e-12)) for a, b in zip(p, q) if a > 0)
        return {
            "n": len(idx),
            "baseAccuracy": sum(argmax(base[i]) == qs[i]["answer"] for i in idx) / len(idx),
            "tunedAccuracy": sum(argmax(tuned[i]) == qs[i]["answer"] for i in idx) / len(idx),
            "consistency": sum(pearson(dense_rank(base[i]), dense_rank(tuned[i])) for i in idx) / len(idx),
            "kl": sum(kl(base[i], tuned[i]) for i in idx) / len(idx),
        }

    known = [i for i, q in enumerate(qs) if max(range(4), key=lambda k: base[i][k]) == q["answer"]]
    unknown = [i for i in range(len(qs)) if i not in set(known)]
    return {"overall": group(list(range(len(qs)))), "known": group(known), "unknown": group(unknown)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="Hub id to use instead of the lab's model")
    ap.add_argument("--revision", default=None)
    ap.add_argument("--out", default=os.path.join(HERE, "runs"))
    ap.add_argument("--only", nargs="*", help="run ids to run (default: the whole grid)")
    args = ap.parse_args()
    model_id = args.model or CFG["model"]["id"]
    revision = args.revision or (CFG["model"]["revision"] if not args.model else "main")
    cuda = torch.cuda.is_available()
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    tok = AutoTokenizer.from_pretrained(model_id, revision=revision)
    if tok.chat_template is None:
        tok.chat_template = CHATML
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token

    def load():
        return AutoModelForCausalLM.from_pretrained(model_id, revision=revision, torch_dtype=dtype, device_map="auto" if cuda else None)

    tests = {name: read_jsonl(os.path.join(HERE, "tests", f"{name}.jsonl")) for name in CFG["testSets"]}
    fewshot = read_jsonl(os.path.join(HERE, "fewshot.jsonl"))
    os.makedirs(args.out, exist_ok=True)
    results = {"model": model_id, "revision": revision, "baseScores": {}, "runs": []}
    base_model = load()
    base = {p["name"]: {s: score(base_model, tok, qs, p["base"], fewshot) for s, qs in tests.items()} for p in CFG["protocols"]}
    del base_model
    t = CFG["training"]
    schedule = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}[t["schedule"]["kind"]]
    for run in CFG["runs"]:
        if args.only and run["runId"] not in args.only:
            continue
        data = load_dataset("json", data_files=os.path.join(HERE, "datasets", f"{run['dataset']}.jsonl"), split="train")
        config = SFTConfig(
            output_dir=os.path.join(args.out, run["runId"]),
            num_train_epochs=t["epochs"],
            per_device_train_batch_size=t["batchSize"],
            learning_rate=t["learningRate"],
            lr_scheduler_type=schedule,
            warmup_ratio=t["schedule"]["warmupFraction"],
            weight_decay=t["weightDecay"],
            adam_beta1=t["betas"][0],
            adam_beta2=t["betas"][1],
            adam_epsilon=t["eps"],
            max_grad_norm=t["clipNorm"],
            max_length=t["maxSeqLen"],
            completion_only_loss=True,
            seed=run["seed"],
            bf16=dtype == torch.bfloat16,
            logging_steps=1,
            save_strategy="epoch",
            report_to=[],
        )
        lora = LoraConfig(
            r=t["lora"]["rank"],
            lora_alpha=t["lora"]["alpha"],
            lora_dropout=t["lora"]["dropout"],
            target_modules=t["lora"]["targetModules"],
            task_type="CAUSAL_LM",
        )
        trainer = SFTTrainer(model=load(), args=config, train_dataset=data, processing_class=tok, peft_config=lora)
        trainer.train()
        rec = {"runId": run["runId"], "dataset": run["dataset"], "seed": run["seed"], "evals": {}}
        for p in CFG["protocols"]:
            rec["evals"][p["name"]] = {
                s: summarize(base[p["name"]][s], score(trainer.model, tok, qs, p["tuned"], fewshot), qs) for s, qs in tests.items()
            }
        results["runs"].append(rec)
        print(json.dumps({"runId": run["runId"], "homo": rec["evals"][CFG["protocols"][0]["name"]].get("homo", {}).get("overall")}))
        with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
        del trainer
        if cuda:
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
