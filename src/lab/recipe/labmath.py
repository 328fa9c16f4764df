"""IFT Lab's own definitions, in plain Python (no torch), so the recipe trains and scores as the lab does.

Each function mirrors one in the lab's TypeScript (named in its docstring); tests/python/test_labmath.py checks
them against values the lab computes (tests/fixtures/recipe-cases.json, regenerated and compared by
tests/unit/lab/recipe-python.test.ts), so a change on either side fails a test.
"""
import math

LETTERS = "ABCD"
M32 = 0xFFFFFFFF

# --- prompts (src/lab/prompts.ts) ---------------------------------------------------------------------------


def header(subject):
    """prompts.ts header(): MMLU's subject line."""
    return f"The following are multiple choice questions about {' '.join(subject.split('_'))}.\n\n"


def format_question(q):
    """prompts.ts formatQuestion(): `question\\nA. ..\\nD. ..\\nAnswer:`."""
    return q["question"] + "".join(f"\n{LETTERS[i]}. {o}" for i, o in enumerate(q["options"])) + "\nAnswer:"


def format_example(q):
    """prompts.ts formatExample(): a solved example, then ` X\\n\\n`."""
    return f"{format_question(q)} {LETTERS[q['answer']]}\n\n"


def pick_shots(fewshot, subject, k, exclude=None):
    """prompts.ts pickShots(): the first k dev examples of the subject, never the question itself."""
    return [e for e in fewshot if e["subject"] == subject and e["id"] != exclude][:k]


def kshot_text(q, fewshot, shots):
    """probe.ts preparePrompts() for `kshot`: header, k solved examples, the question (BOS added by the caller)."""
    return header(q["subject"]) + "".join(format_example(e) for e in pick_shots(fewshot, q["subject"], shots, q["id"])) + format_question(q)


def chat_user_text(q):
    """prompts.ts chatUserText(): the user turn of the 0-shot chat format and of every IFT example."""
    return header(q["subject"]) + format_question(q)


def rotate(q, shift):
    """prompts.ts rotate(): options rotated left by `shift` (option i moves to (i - shift) mod 4), gold following."""
    s = shift % 4
    return {**q, "id": f"{q['id']}#shift{s}", "options": [q["options"][(i + s) % 4] for i in range(4)], "answer": (q["answer"] - s) % 4}


# --- seeded randomness (src/lab/random.ts, src/engine/random.ts) --------------------------------------------


def _mix(s):
    """mulberry32's output function on the state s (unsigned 32-bit arithmetic throughout, as Math.imul)."""
    t = s
    t = ((t ^ (t >> 15)) * (t | 1)) & M32
    t = t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32)
    return (t ^ (t >> 14)) & M32


def lab_rng(seed):
    """random.ts rng(): mulberry32, uniform in [0, 1); the bootstrap's generator."""
    state = [(math.floor(seed) ^ 0x9E3779B9) & M32]

    def nxt():
        state[0] = (state[0] + 0x6D2B79F5) & M32
        return _mix(state[0]) / 4294967296

    return nxt


def uniform_pm1(seed):
    """engine/random.ts uniformPm1(): mulberry32, uniform in [-1, 1); LoRA init and the batch order."""
    state = [seed & M32]

    def nxt():
        state[0] = (state[0] + 0x6D2B79F5) & M32
        return (_mix(state[0]) / 4294967296) * 2 - 1

    return nxt


def uniform_pm1_array(seed, n, start=0):
    """Values start..start+n-1 of uniform_pm1(seed), vectorised with numpy (the k-th state is seed + k·C)."""
    import numpy as np

    k = np.arange(start + 1, start + n + 1, dtype=np.uint64)
    s = (np.uint64(seed & M32) + k * np.uint64(0x6D2B79F5)) & np.uint64(M32)
    m = np.uint64(M32)
    t = ((s ^ (s >> np.uint64(15))) * (s | np.uint64(1))) & m
    t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)
    t = (t ^ (t >> np.uint64(14))) & m
    return (t.astype(np.float64) / 4294967296) * 2 - 1


# --- training (src/model/train-step.ts, src/engine/optim/schedule.ts, src/model/lora.ts) --------------------


def js_round(x):
    """JavaScript's Math.round (halves round up), which the lab uses; Python's round() rounds halves to even."""
    return math.floor(x + 0.5)


def plan_steps(examples, batch_size, epochs, warmup_fraction):
    """train-step.ts trainLora(): batch B = min(batch, n), ceil(n / B) steps an epoch, warm-up round(f · total)."""
    b = max(1, min(batch_size, examples))
    per_epoch = math.ceil(examples / b)
    total = per_epoch * epochs
    return {"batch": b, "perEpoch": per_epoch, "total": total, "warmup": js_round(warmup_fraction * total)}


def learning_rate_at(step, total, kind, warmup, peak):
    """schedule.ts learningRateAt(): `step` optimizer steps already taken (0 for the first update runs at 0)."""
    if step < warmup:
        return peak * step / max(1, warmup)
    if kind == "constant":
        return peak
    if kind == "linear":
        return peak * max(0.0, (total - step) / max(1, total - warmup))
    if kind == "cosine":
        progress = (step - warmup) / max(1, total - warmup)
        return peak * max(0.0, 0.5 * (1 + math.cos(math.pi * 2 * 0.5 * progress)))
    raise ValueError(f"unknown schedule {kind!r}")


def epoch_order(n, seed, epoch):
    """train-step.ts shuffled(): the lab's example order in one epoch (Fisher-Yates on uniformPm1)."""
    order = list(range(n))
    r = uniform_pm1((seed * 1000003 + epoch * 7919) & M32)
    for i in range(n - 1, 0, -1):
        j = math.floor(((r() + 1) / 2) * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


def truncate_left(ids, mask, max_len):
    """train-step.ts truncateLeft(): keep the last max_len tokens (the answer is at the end)."""
    if len(ids) <= max_len:
        return ids, mask
    return ids[-max_len:], mask[-max_len:]


def reply_mask(prompt_ids, full_ids):
    """intervene.ts toTrainExample(): loss on every token from the first where prompt and full encodings differ."""
    start = 0
    while start < len(prompt_ids) and start < len(full_ids) and prompt_ids[start] == full_ids[start]:
        start += 1
    if start >= len(full_ids):
        raise ValueError("the assistant reply encodes to no tokens")
    return [1 if i >= start else 0 for i in range(len(full_ids))]


# Canonical LoRA order (lora.ts LORA_TARGETS) and HF module paths inside a decoder layer.
LORA_TARGETS = ["q", "k", "v", "o", "gate", "up", "down"]
LORA_MODULES = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
                "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}


def lora_a_init(layers, targets, rank, in_features, seed):
    """lora.ts initLora(): A ~ U(-1/sqrt(in), 1/sqrt(in)) from one uniformPm1(seed) stream, in canonical order
    (layer, then q..down; B is zero and draws nothing). in_features(target) gives a target's input size.
    Yields (layer, target, flat values of the [rank, in] matrix, row-major)."""
    used = [t for t in LORA_TARGETS if t in targets]
    pos = 0
    for layer in range(layers):
        for t in used:
            fin = in_features(t)
            n = rank * fin
            yield layer, t, uniform_pm1_array(seed, n, pos) * (1 / math.sqrt(fin))
            pos += n


def global_batches(n, batch, epochs, seed):
    """The lab's batches: per epoch its order, cut into consecutive runs of `batch` (the last may be short)."""
    for epoch in range(epochs):
        order = epoch_order(n, seed, epoch)
        for k in range(0, n, batch):
            yield epoch, order[k:k + batch]


def shard(indices, rank, world, micro):
    """One process's share of a global batch, as `steps` micro-batches of at most `micro` examples; the same
    number of micro-batches on every process (an empty one is None: the process runs a zero-weighted pass so
    that every process takes part in each gradient all-reduce)."""
    mine = indices[rank::world]
    steps = max(1, math.ceil(math.ceil(len(indices) / world) / micro))
    return [mine[i * micro:(i + 1) * micro] or None for i in range(steps)]


# --- measures (src/lab/metrics.ts, src/lab/evaluate.ts) -----------------------------------------------------


def dense_rank(xs):
    """metrics.ts denseRank(): equal values share a rank, the next value takes the next integer."""
    at = {v: i + 1 for i, v in enumerate(sorted(set(xs)))}
    return [at[x] for x in xs]


def pearson(x, y):
    """metrics.ts pearson(): 0 when either side has no variance, clamped to [-1, 1]."""
    n = len(x)
    if n != len(y):
        raise ValueError("pearson: lengths differ")
    if n < 2:
        return 0.0
    mx = 0.0
    my = 0.0
    for i in range(n):
        mx += x[i]
        my += y[i]
    mx /= n
    my /= n
    sxy = sxx = syy = 0.0
    for i in range(n):
        sxy += (x[i] - mx) * (y[i] - my)
        sxx += (x[i] - mx) ** 2
        syy += (y[i] - my) ** 2
    if sxx == 0 or syy == 0:
        return 0.0
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def spearman(x, y):
    """metrics.ts spearman(): Pearson of dense ranks, the paper's consistency of one question."""
    return pearson(dense_rank(x), dense_rank(y))


def kl(p, q):
    """metrics.ts kl(): KL(p || q) in nats, q floored at 1e-12."""
    s = 0.0
    for a, b in zip(p, q):
        if a > 0:
            s += a * math.log(a / max(b, 1e-12))
    return s


def cosine(p, q):
    """metrics.ts cosine()."""
    d = a = b = 0.0
    for x, y in zip(p, q):
        d += x * y
        a += x * x
        b += y * y
    return 0.0 if a == 0 or b == 0 else d / math.sqrt(a * b)


def mean(xs):
    if not xs:
        return math.nan
    s = 0.0
    for x in xs:
        s += x
    return s / len(xs)


def lab_rng_array(seed, n):
    """The first n values of lab_rng(seed), vectorised (state k is (seed ^ golden) + k·C)."""
    import numpy as np

    m = np.uint64(M32)
    k = np.arange(1, n + 1, dtype=np.uint64)
    s = (np.uint64((math.floor(seed) ^ 0x9E3779B9) & M32) + k * np.uint64(0x6D2B79F5)) & m
    t = ((s ^ (s >> np.uint64(15))) * (s | np.uint64(1))) & m
    t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)
    return ((t ^ (t >> np.uint64(14))) & m).astype(np.float64) / 4294967296


def _bootstrap_stats_numpy(values, samples, seed):
    """The resample means with numpy, bit for bit as the loop below: the same draws, and a running sum
    (cumsum adds left to right, as the lab does) rather than numpy's pairwise sum. None without numpy."""
    try:
        import numpy as np
    except ImportError:
        return None
    n = len(values)
    idx = np.floor(lab_rng_array(seed, samples * n) * n).astype(np.int64).reshape(samples, n)
    sums = np.cumsum(np.asarray(values, dtype=np.float64)[idx], axis=1)[:, -1]
    return [float(x) for x in sums / n]


def bootstrap_mean(values, samples=1000, seed=0, level=0.95):
    """metrics.ts bootstrapMean(): percentile bootstrap over questions, the lab's generator and interpolation,
    so the same scores give the same interval to the last bit."""
    n = len(values)
    value = math.nan if n == 0 else mean(values)
    if n == 0 or samples <= 0:
        return {"value": value, "lo": math.nan, "hi": math.nan}
    stats = _bootstrap_stats_numpy(values, samples, seed)
    if stats is None:
        r = lab_rng(seed)
        stats = []
        for _ in range(samples):
            s = 0.0
            for _ in range(n):
                s += values[math.floor(r() * n)]
            stats.append(s / n)
    stats.sort()
    alpha = (1 - level) / 2

    def q(f):
        pos = f * (samples - 1)
        lo = math.floor(pos)
        return stats[lo] + (stats[min(lo + 1, samples - 1)] - stats[lo]) * (pos - lo)

    return {"value": value, "lo": q(alpha), "hi": q(1 - alpha)}


def argmax4(p):
    """probe.ts scored(): the first option with the highest probability."""
    best = 0
    for i in range(1, len(p)):
        if p[i] > p[best]:
            best = i
    return best


def softmax(logits):
    m = max(logits)
    e = [math.exp(x - m) for x in logits]
    z = sum(e)
    return [x / z for x in e]


def debias(shifted):
    """The debiased belief: shifted[s] are the four probabilities of rotate(q, s); option j of q sits at position
    (j - s) mod 4 there, so its probability is averaged over the shifts by content, not by letter."""
    return [sum(shifted[s][(j - s) % 4] for s in range(len(shifted))) / len(shifted) for j in range(4)]


def group_metrics(base, tuned, gold, samples=1000, seed=0):
    """evaluate.ts group(): n, base/tuned accuracy, C, KL and cosine, each with its interval (the same resamples)."""
    iv = lambda values: bootstrap_mean(values, samples, seed)
    return {
        "n": len(base),
        "baseAccuracy": iv([1.0 if argmax4(p) == g else 0.0 for p, g in zip(base, gold)]),
        "tunedAccuracy": iv([1.0 if argmax4(p) == g else 0.0 for p, g in zip(tuned, gold)]),
        "consistency": iv([spearman(p, q) for p, q in zip(base, tuned)]),
        "kl": iv([kl(p, q) for p, q in zip(base, tuned)]),
        "cosine": iv([cosine(p, q) for p, q in zip(base, tuned)]),
    }


def set_report(base, tuned, gold, samples=1000, seed=0):
    """evaluate.ts compareScores(): overall, and the questions the base model knew / did not know."""

    def pick(keep):
        idx = [i for i in range(len(base)) if keep(i)]
        return group_metrics([base[i] for i in idx], [tuned[i] for i in idx], [gold[i] for i in idx], samples, seed)

    known = lambda i: argmax4(base[i]) == gold[i]
    return {"overall": pick(lambda i: True), "known": pick(known), "unknown": pick(lambda i: not known(i))}


def json_safe(x):
    """NaN and infinities as null (JSON has no NaN; the lab reads null as 'not measured')."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x
