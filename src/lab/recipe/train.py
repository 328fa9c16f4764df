#!/usr/bin/env python3
"""Runs an IFT Lab experiment grid with PyTorch + transformers + PEFT + accelerate, e.g. on a 7B model.

Exported by IFT Lab (src/lab/recipe.ts): the datasets, test sets, few-shot examples and hyper-parameters are
the lab's (config.json); only the model may be swapped (--model). It trains as the lab does, not as a library's
defaults do (labmath.py holds the lab's definitions; README.md says which source each one mirrors):
  - LoRA on the listed projections, initialised from the run's seed with the lab's generator (--init lab), or
    PEFT's own init after set_seed(seed) (--init peft). The seed is set before the adapter is made.
  - The loss is on the assistant reply only: the tokens from the first one where the chat template's prompt and
    the full conversation differ (the lab's mask, whatever a library's default). Long examples lose their start.
  - The lab's example order, batches, AdamW settings, gradient clipping and schedule (warm-up rounded as the
    lab rounds it); the loss of a step is the mean over the target tokens of the whole (global) batch.
  - Scoring is the lab's letter softmax (or the debiased one: four cyclic shifts averaged by content).
Several GPUs: `accelerate launch` (data parallel, one model copy per process; the global batch stays the lab's).
See README.md for the commands; requirements.txt for the versions.

  python train.py --model mistralai/Mistral-7B-v0.1 [--out runs] [--only harmonious-s42 ...]
"""
import argparse
import contextlib
import gc
import hashlib
import json
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import labmath as lm  # noqa: E402  (beside this file; pure Python, tested without torch)

# A base model without a chat template gets ChatML, so that training and 0-shot scoring share one format.
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
RESULTS_FORMAT = "ift-lab-recipe-results"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_config():
    with open(os.path.join(HERE, "config.json"), encoding="utf-8") as f:
        return json.load(f)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="Hub id (or local folder) of the model; default the lab's model from config.json")
    ap.add_argument("--revision", default=None, help="model revision (default: the lab's for the lab's model, else main)")
    ap.add_argument("--out", default=os.path.join(HERE, "runs"), help="results.json and one adapter folder per run")
    ap.add_argument("--only", nargs="*", help="run ids to run (default: the whole grid)")
    ap.add_argument("--per-device-batch", type=int, default=None,
                    help="examples per process per micro-step; gradients accumulate so that the global batch stays "
                         "the lab's batchSize (default: batchSize / processes, no accumulation)")
    ap.add_argument("--init", choices=["lab", "peft"], default="lab",
                    help="LoRA A init: the lab's seeded generator (same start as the lab) or PEFT's (after set_seed)")
    ap.add_argument("--method", choices=["letter", "debiased"], default=None,
                    help="belief scoring (default config.json's evaluation.method, else letter)")
    ap.add_argument("--device-map", default=None,
                    help="'auto' spreads one model over this machine's GPUs (one process only; see README)")
    ap.add_argument("--score-batch", type=int, default=None, help="prompts per forward pass when scoring")
    ap.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations in the backward pass (less memory)")
    ap.add_argument("--fresh", action="store_true", help="ignore an earlier results.json in --out (default: resume)")
    ap.add_argument("--timeout-minutes", type=int, default=180,
                    help="how long other processes wait for the main one while it scores (process-group timeout)")
    return ap.parse_args(argv)


def check_model_id(model_id):
    """The lab's built-in models exist only in the browser/Node engine; a Hub loader cannot fetch them."""
    if model_id.split(":", 1)[0] in ("builtin", "test"):
        raise SystemExit(
            f"config.json names the lab's built-in model {model_id!r}, which exists only inside IFT Lab.\n"
            "Pass a Hugging Face model: python train.py --model <hub id>, e.g. --model Qwen/Qwen2.5-7B "
            "(the datasets are the lab's either way)."
        )


def dataset_hash(rows):
    """intervene.ts toJsonl() + sha256Hex(): one {"messages": [...]} per line, as JSON.stringify writes it."""
    text = "".join(json.dumps({"messages": r["prompt"] + r["completion"]}, ensure_ascii=False, separators=(",", ":")) + "\n" for r in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Scorer:
    """The lab's belief scorer (probe.ts): per question the four option probabilities, the next-token
    softmax over the option letters renormalised over A-D, in the `kshot` or `chat` format.
    `debiased` scores the four cyclic shifts of the options and averages each option's probability by content.
    A prompt layout is one function (question, format) -> text, so another layout can be added beside `prompt`."""

    def __init__(self, tok, fewshot, method="letter", batch=8):
        self.tok, self.fewshot, self.method, self.batch = tok, fewshot, method, max(1, batch)
        self._letters = {}

    def encode(self, text):
        return self.tok(text, add_special_tokens=False)["input_ids"]

    def chat(self, messages, generation_prompt):
        return self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)

    def letter_ids(self, fmt):
        """probe.ts formatLetterIds(): ` A`..` D` after `Answer:`, or `A`..`D` after the chat generation prompt."""
        key = fmt["kind"]
        if key not in self._letters:
            if key == "chat":
                context, letters = self.chat([{"role": "user", "content": "Answer:"}], True), list(lm.LETTERS)
            else:
                context, letters = "Answer:", [" " + l for l in lm.LETTERS]
            base = self.encode(context)
            ids = []
            for l in letters:
                full = self.encode(context + l)
                if len(full) != len(base) + 1 or full[: len(base)] != base:
                    raise SystemExit(f"{l!r} is not a single token after {context[-20:]!r}; letter scoring needs one per option")
                ids.append(full[-1])
            self._letters[key] = ids
        return self._letters[key]

    def prompt(self, q, fmt):
        """Token ids of one question's prompt (probe.ts preparePrompts)."""
        if fmt["kind"] == "chat":
            return self.encode(self.chat([{"role": "user", "content": lm.chat_user_text(q)}], True))
        bos = [self.tok.bos_token_id] if self.tok.bos_token_id is not None else []
        return bos + self.encode(lm.kshot_text(q, self.fewshot, fmt["shots"]))

    def letter_probs(self, model, questions, fmt):
        import torch

        cand = torch.tensor(self.letter_ids(fmt))
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0
        device = next(p.device for p in model.parameters() if p.device.type != "meta")
        out = []
        with torch.no_grad():
            for i in range(0, len(questions), self.batch):
                prompts = [self.prompt(q, fmt) for q in questions[i:i + self.batch]]
                width = max(len(p) for p in prompts)
                # Right padding: a row's last real token sees only its own prompt (causal attention).
                ids = torch.tensor([p + [pad] * (width - len(p)) for p in prompts], device=device)
                mask = torch.tensor([[1] * len(p) + [0] * (width - len(p)) for p in prompts], device=device)
                logits = model(input_ids=ids, attention_mask=mask).logits
                at = logits.device  # with --device-map the logits come off the last GPU
                last = torch.tensor([len(p) - 1 for p in prompts], device=at)
                rows = logits[torch.arange(len(prompts), device=at), last].float()
                lp = torch.log_softmax(rows, -1)[:, cand.to(at)]
                out.extend(lm.softmax(r) for r in lp.tolist())
        return out

    def score(self, model, questions, fmt):
        model.eval()
        if self.method == "letter":
            return self.letter_probs(model, questions, fmt)
        shifted = [self.letter_probs(model, [lm.rotate(q, s) for q in questions], fmt) for s in range(4)]
        return [lm.debias([shifted[s][i] for s in range(4)]) for i in range(len(questions))]


def train_examples(scorer, rows, max_len):
    """intervene.ts toTrainExample() then train-step.ts truncateLeft(): ids and the reply-only loss mask."""
    out = []
    for k, r in enumerate(rows):
        prompt_text = scorer.chat(r["prompt"], True)
        full_text = scorer.chat(r["prompt"] + r["completion"], False)
        if not full_text.startswith(prompt_text):
            raise SystemExit(
                f"example {k + 1}: the model's chat template does not render the conversation as its prompt followed by "
                "the reply, so the reply's tokens cannot be found. Use a model whose template supports a generation prompt."
            )
        ids = scorer.encode(full_text)
        mask = lm.reply_mask(scorer.encode(prompt_text), ids)
        out.append(lm.truncate_left(ids, mask, max_len))
    return out


def collate(examples, pad, device):
    import torch

    width = max(len(seq) for seq, _ in examples)
    ids = torch.tensor([seq + [pad] * (width - len(seq)) for seq, _ in examples], device=device)
    att = torch.tensor([[1] * len(seq) + [0] * (width - len(seq)) for seq, _ in examples], device=device)
    # The lab's targets (train-step.ts packTrainBatch): a token whose mask is 1; padding is never a target.
    labels = torch.tensor([[tok if m else -100 for tok, m in zip(seq, mask)] + [-100] * (width - len(seq)) for seq, mask in examples], device=device)
    return ids, att, labels


def target_tokens(examples):
    """Tokens the loss counts: a token is a target when its mask is 1 and a token precedes it."""
    return sum(sum(m[1:]) for _, m in examples)


class Session:
    """Process layout and model loading: one process, several (accelerate launch, DDP or FSDP), or one process
    with the model spread over the GPUs (--device-map auto)."""

    def __init__(self, args):
        from datetime import timedelta

        import torch
        from accelerate import Accelerator
        from accelerate.utils import DistributedType, InitProcessGroupKwargs

        self.torch = torch
        self.args = args
        # Other processes wait at a barrier while the main one scores; the default NCCL timeout can be too short.
        self.acc = Accelerator(kwargs_handlers=[InitProcessGroupKwargs(timeout=timedelta(minutes=args.timeout_minutes))])
        self.world = self.acc.num_processes
        self.rank = self.acc.process_index
        self.main = self.acc.is_main_process
        self.fsdp = self.acc.distributed_type == DistributedType.FSDP
        if args.device_map and self.world > 1:
            raise SystemExit(
                "--device-map spreads one model over the GPUs of one process; it cannot be combined with accelerate's "
                f"{self.world} processes (accelerate refuses such a model in any distributed mode). Run it with plain "
                "`python train.py --device-map auto`, or use FSDP (README.md)."
            )
        cuda = torch.cuda.is_available()
        self.dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32

    def log(self, *a):
        if self.main:
            print(*a, flush=True)

    def load(self, model_id, revision, for_training):
        import transformers
        from packaging import version
        from transformers import AutoModelForCausalLM

        # FSDP keeps fp32 master weights and casts per its mixed_precision (PEFT's FSDP guide); elsewhere bf16.
        dtype = self.torch.float32 if (for_training and self.fsdp) else self.dtype
        # transformers 4.56 renamed torch_dtype to dtype (5.x keeps only dtype).
        key = "dtype" if version.parse(transformers.__version__) >= version.parse("4.56") else "torch_dtype"
        kw = {"revision": revision, key: dtype}
        if self.args.device_map:
            kw["device_map"] = self.args.device_map
        model = AutoModelForCausalLM.from_pretrained(model_id, **kw)
        if not self.args.device_map and not (for_training and self.fsdp):
            model.to(self.acc.device)
        return model

    def free(self):
        """After the caller drops its references to a model and optimizer: the Accelerator lets go of the ones it
        prepared (it keeps them in lists), and gc breaks the reference cycles (bound methods, hooks) that would
        otherwise keep GPU memory alive until the interpreter collects them."""
        self.acc.free_memory()
        gc.collect()
        if self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()


def lab_init(model, t, seed, session):
    """Overwrites every lora_A with the lab's seeded values (lora.ts initLora); B stays zero (PEFT's init)."""
    import torch

    inner = model.get_base_model()
    targets = [k for k, v in lm.LORA_MODULES.items() if v.split(".")[-1] in t["lora"]["targetModules"]]
    layers = getattr(inner.config, "num_hidden_layers", None)
    try:
        modules = {(i, k): inner.get_submodule(f"model.layers.{i}.{lm.LORA_MODULES[k]}") for i in range(layers) for k in targets}
    except (AttributeError, TypeError):
        session.log("note: this architecture is not laid out as model.layers.N; LoRA keeps PEFT's init (seeded by set_seed)")
        return
    fin = {k: modules[(0, k)].lora_A["default"].weight.shape[1] for k in targets}
    with torch.no_grad():
        for layer, k, values in lm.lora_a_init(layers, targets, t["lora"]["rank"], lambda k: fin[k], seed):
            w = modules[(layer, k)].lora_A["default"].weight
            if w.device.type == "meta":  # FSDP's RAM-efficient loading: rank 0's values are broadcast
                continue
            w.copy_(torch.from_numpy(values.reshape(w.shape)).to(w.dtype))


def train_run(session, cfg, run, scorer, model_id, revision, adapter_dir):
    """One run: the lab's batches and schedule over accelerate; saves the adapter in PEFT's layout."""
    torch = session.torch
    from accelerate.utils import set_seed
    from peft import LoraConfig, get_peft_model

    acc, t = session.acc, cfg["training"]
    rows = read_jsonl(os.path.join(HERE, "datasets", f"{run['dataset']}.jsonl"))
    examples = train_examples(scorer, rows, t["maxSeqLen"])
    plan = lm.plan_steps(len(examples), t["batchSize"], t["epochs"], t["schedule"]["warmupFraction"])
    per_rank = math.ceil(plan["batch"] / session.world)
    micro = min(session.args.per_device_batch or per_rank, per_rank)
    accum = math.ceil(per_rank / micro)
    session.log(f"[{run['runId']}] {len(examples)} examples, {plan['total']} steps ({plan['warmup']} warm-up), global batch "
                f"{plan['batch']} = {session.world} process(es) x up to {micro} examples x {accum} accumulation step(s)")

    # The seed first: PEFT draws the adapter's init (and dropout) from torch's generator when it builds it.
    set_seed(run["seed"])
    model = session.load(model_id, revision, for_training=True)
    if session.args.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    lora = LoraConfig(r=t["lora"]["rank"], lora_alpha=t["lora"]["alpha"], lora_dropout=t["lora"]["dropout"],
                      target_modules=t["lora"]["targetModules"], task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    if session.args.init == "lab":
        lab_init(model, t, run["seed"], session)
    if session.fsdp:
        # PEFT's FSDP guide: wrap LoRA layers apart from the frozen ones (use_orig_params: false saves memory).
        from peft.utils.other import fsdp_auto_wrap_policy

        acc.state.fsdp_plugin.auto_wrap_policy = fsdp_auto_wrap_policy(model)
    model = acc.prepare(model)  # FSDP needs the model wrapped before the optimizer sees its parameters
    params = [p for p in model.parameters() if p.requires_grad]
    peak = t["learningRate"]
    opt = torch.optim.AdamW(params, lr=peak, betas=tuple(t["betas"]), eps=t["eps"], weight_decay=t["weightDecay"])
    opt = acc.prepare(opt)
    pad = scorer.tok.pad_token_id if scorer.tok.pad_token_id is not None else 0
    model.train()
    step, losses, t0 = 0, [], time.time()
    for epoch, batch in lm.global_batches(len(examples), plan["batch"], t["epochs"], run["seed"]):
        # schedule.ts: the lab's multiplier, set by hand (no LambdaLR, no scheduler stepping per process).
        for g in opt.param_groups:
            g["lr"] = lm.learning_rate_at(step, plan["total"], t["schedule"]["kind"], plan["warmup"], peak)
        tokens = max(1, target_tokens([examples[i] for i in batch]))
        parts = lm.shard(batch, session.rank, session.world, micro)
        local = torch.zeros((), device=acc.device)
        for k, part in enumerate(parts):
            weight = 1.0 if part is not None else 0.0  # an empty share still joins the all-reduce
            ids, att, labels = collate([examples[i] for i in (part or batch[:1])], pad, acc.device)
            sync = k == len(parts) - 1 or session.fsdp
            with acc.no_sync(model) if not sync else contextlib.nullcontext():
                logits = model(input_ids=ids, attention_mask=att).logits.float()
                targets = labels[:, 1:].to(logits.device).reshape(-1)
                ce = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), targets, ignore_index=-100, reduction="sum")
                # Gradients are averaged over processes: scale so the total is the mean over the global batch's tokens.
                acc.backward(weight * ce * session.world / tokens)
            local = local + (weight * ce.detach()).to(local.device)
            del logits, ce
        if t["clipNorm"] > 0:
            acc.clip_grad_norm_(params if not session.fsdp else model.parameters(), t["clipNorm"])
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        loss = (acc.reduce(local, "sum") / tokens).item()
        if not math.isfinite(loss):
            raise SystemExit(f"[{run['runId']}] the loss is {loss} at step {step}: training diverged; lower the learning rate")
        losses.append(loss)
        session.log(f"  epoch {epoch + 1} step {step}/{plan['total']} loss {loss:.4f} lr {opt.param_groups[0]['lr']:.3g}")
    seconds = time.time() - t0
    # Under FSDP this gathers the full (unsharded) weights onto the main process (accelerate uses FULL_STATE_DICT,
    # rank 0 only) and every process must call it; under DDP it is the unwrapped model's state dict.
    state = acc.get_state_dict(model)
    if session.main:
        acc.unwrap_model(model).save_pretrained(adapter_dir, state_dict=state)  # PEFT's layout, adapter weights only
    acc.wait_for_everyone()
    del model, opt, state, params
    session.free()
    return {"steps": step, "finalLoss": losses[-1] if losses else None, "losses": losses, "seconds": seconds,
            "plan": {**plan, "processes": session.world, "perDeviceBatch": micro, "accumulation": accum}}


def write_results(path, results):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(lm.json_safe(results), f, indent=1, allow_nan=False)
    os.replace(tmp, path)


def versions():
    out = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "peft", "accelerate"):
        try:
            out[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - a missing package shows as null
            out[name] = None
    return out


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_results(cfg, model_id, revision, method, samples, bseed, env):
    """results.json before any run: what was run, on what, and where the numbers will go."""
    return {
        "format": RESULTS_FORMAT, "version": 1, "name": cfg["name"],
        "model": {"id": model_id, "revision": revision}, "labModel": cfg["model"],
        "method": method, "protocols": cfg["protocols"], "testSets": cfg["testSets"],
        "training": cfg["training"], "datasets": cfg["datasets"], "probe": cfg.get("probe"),
        "evaluation": {"bootstrapSamples": samples, "bootstrapSeed": bseed},
        "startedAt": now_iso(), "finishedAt": None, "environment": env,
        "baseScores": {}, "base": {}, "runs": [],
    }


def base_summary(base_scores, tests, samples, bseed):
    """The base model's accuracy per protocol and test set, with its interval (experiment.ts baseAccuracy)."""
    return {
        name: {
            s: {**lm.bootstrap_mean([1.0 if lm.argmax4(x) == q["answer"] else 0.0 for x, q in zip(scores[s], qs)], samples, bseed), "n": len(qs)}
            for s, qs in tests.items()
        }
        for name, scores in base_scores.items()
    }


def run_record(run, train, adapter, cfg, base_scores, tuned_scores, tests, samples, bseed):
    """One run's entry: its training, its adapter, and per protocol and test set the lab's SetReport."""
    rec = {**run, "adapter": adapter, "train": train, "evals": {}, "tunedScores": tuned_scores}
    for p in cfg["protocols"]:
        rec["evals"][p["name"]] = {
            s: lm.set_report(base_scores[p["name"]][s], tuned_scores[p["name"]][s], [q["answer"] for q in qs], samples, bseed)
            for s, qs in tests.items()
        }
    return rec


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config()
    model_id = args.model or cfg["model"]["id"]
    check_model_id(model_id)
    unknown = sorted(set(args.only or []) - {r["runId"] for r in cfg["runs"]})
    if unknown:
        raise SystemExit(f"--only names run(s) the grid does not have: {', '.join(unknown)}. The grid: {', '.join(r['runId'] for r in cfg['runs'])}")
    revision = args.revision or (cfg["model"]["revision"] if not args.model else "main")
    ev = cfg.get("evaluation") or {}
    method = args.method or ev.get("method") or "letter"
    if method not in ("letter", "debiased"):
        raise SystemExit(f"config.json asks for the {method!r} belief method; this recipe scores letter or debiased")

    layout = cfg.get("prompt")
    if layout not in (None, "paper", "default") and not (isinstance(layout, dict) and layout.get("kind") in (None, "paper", "default")):
        raise SystemExit(
            f"config.json asks for the prompt layout {json.dumps(layout)}, which this recipe does not render: its prompts are "
            "the paper's (labmath.py). Export with the default layout, or add the layout to Scorer.prompt and labmath.py."
        )

    from transformers import AutoTokenizer

    session = Session(args)
    tok = AutoTokenizer.from_pretrained(model_id, revision=revision)
    if tok.chat_template is None:
        tok.chat_template = CHATML
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    fewshot = read_jsonl(os.path.join(HERE, "fewshot.jsonl"))
    scorer = Scorer(tok, fewshot, method, args.score_batch or ev.get("batchSize") or 8)
    tests = {name: read_jsonl(os.path.join(HERE, "tests", f"{name}.jsonl")) for name in cfg["testSets"]}
    for d in cfg["datasets"]:
        h = dataset_hash(read_jsonl(os.path.join(HERE, "datasets", f"{d['name']}.jsonl")))
        if h != d["sha256"]:
            raise SystemExit(f"datasets/{d['name']}.jsonl is not the lab's (sha256 {h[:12]}…, config.json says {d['sha256'][:12]}…); re-export it")
    samples, bseed = ev.get("bootstrapSamples", 1000), ev.get("bootstrapSeed", 0)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.json")

    env = {**versions(), "processes": session.world, "fsdp": session.fsdp, "deviceMap": args.device_map}
    results = new_results(cfg, model_id, revision, method, samples, bseed, env)
    if not args.fresh and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
        if old.get("model") == results["model"] and old.get("method") == method and old.get("baseScores"):
            results.update({k: old[k] for k in ("baseScores", "base", "runs", "startedAt")})
            session.log(f"resuming {path}: {len(old['runs'])} run(s) done")

    # Base scores once, on the main process (the others wait at the barrier).
    if not results["baseScores"] and session.main:
        base_model = session.load(model_id, revision, for_training=False)
        for p in cfg["protocols"]:
            results["baseScores"][p["name"]] = {s: scorer.score(base_model, qs, p["base"]) for s, qs in tests.items()}
        results["base"] = base_summary(results["baseScores"], tests, samples, bseed)
        del base_model
        session.free()
        write_results(path, results)
    session.acc.wait_for_everyone()
    if not session.main:
        with open(path, encoding="utf-8") as f:
            results["runs"] = json.load(f)["runs"]

    done = {r["runId"] for r in results["runs"]}
    for run in cfg["runs"]:
        if (args.only and run["runId"] not in args.only) or run["runId"] in done:
            continue
        adapter_dir = os.path.join(args.out, run["runId"], "adapter")
        train = train_run(session, cfg, run, scorer, model_id, revision, adapter_dir)
        if session.main:
            from peft import PeftModel

            tuned = PeftModel.from_pretrained(session.load(model_id, revision, for_training=False), adapter_dir)
            tuned_scores = {p["name"]: {s: scorer.score(tuned, qs, p["tuned"]) for s, qs in tests.items()} for p in cfg["protocols"]}
            rec = run_record(run, train, os.path.relpath(adapter_dir, args.out), cfg, results["baseScores"], tuned_scores, tests, samples, bseed)
            del tuned
            session.free()
            results["runs"].append(rec)
            results["finishedAt"] = now_iso()
            write_results(path, results)
            first = rec["evals"][cfg["protocols"][0]["name"]]
            summary = {s: round(r["overall"]["tunedAccuracy"]["value"], 4) for s, r in first.items()}
            print(json.dumps({"runId": run["runId"], "tunedAccuracy": summary, "finalLoss": train["finalLoss"]}), flush=True)
        session.acc.wait_for_everyone()
    session.log(f"wrote {path}; turn it into a lab result with: ift-lab import-results {args.out}")


if __name__ == "__main__":
    main()
