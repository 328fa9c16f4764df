#!/usr/bin/env python3
"""Pretrains the toy-world model: a tiny Llama whose forward is Hugging Face's LlamaForCausalLM, written
out in plain torch (rotate-half RoPE, repeat_kv, RMSNorm in f32, SwiGLU, tied embeddings), trained on the
corpus written by tools/toyworld/make-corpus.mjs. Writes config.json, generation_config.json and
model.safetensors (HF names, [out, in], f32) into public/models/toy-world/ and the reference logits into
tests/fixtures/, and prints the MC accuracy of each teaching group with the probe's protocol (5-shot MMLU
prompt, softmax over the letter logits) and debiased (each option's probability averaged over the four
cyclic shifts of the options, by content). --answer-weight weighs the answer letters of MC documents in
the loss (see build.sh).

  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread nice python3 tools/toyworld/pretrain.py \
      --corpus /tmp/ift-lab-toyworld/corpus.json
"""
import argparse, json, math, os, random, struct, time

import torch
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


def config_for(vocab_size, a):
    return {
        'architectures': ['LlamaForCausalLM'],
        'model_type': 'llama',
        'vocab_size': vocab_size,
        'hidden_size': a.d,
        'intermediate_size': a.ffn,
        'num_hidden_layers': a.layers,
        'num_attention_heads': a.heads,
        'num_key_value_heads': a.kv_heads,
        'head_dim': a.d // a.heads,
        'hidden_act': 'silu',
        'max_position_embeddings': 256,
        'initializer_range': 0.02,
        'rms_norm_eps': 1e-5,
        'rope_theta': 10000.0,
        'rope_scaling': None,
        'attention_bias': False,
        'attention_dropout': 0.0,
        'mlp_bias': False,
        'pretraining_tp': 1,
        'tie_word_embeddings': True,
        'torch_dtype': 'float32',
        'use_cache': True,
        'bos_token_id': 2,
        'eos_token_id': 3,
        'pad_token_id': 0,
        'transformers_version': '4.46.0',
    }


def init_params(cfg, gen):
    d, f, v = cfg['hidden_size'], cfg['intermediate_size'], cfg['vocab_size']
    hd = cfg['head_dim']
    h, kv = cfg['num_attention_heads'], cfg['num_key_value_heads']
    std = cfg['initializer_range']

    def normal(*shape):
        return (torch.randn(*shape, generator=gen) * std).requires_grad_()

    p = {'model.embed_tokens.weight': normal(v, d)}
    for i in range(cfg['num_hidden_layers']):
        pre = f'model.layers.{i}.'
        p[pre + 'input_layernorm.weight'] = torch.ones(d, requires_grad=True)
        p[pre + 'self_attn.q_proj.weight'] = normal(h * hd, d)
        p[pre + 'self_attn.k_proj.weight'] = normal(kv * hd, d)
        p[pre + 'self_attn.v_proj.weight'] = normal(kv * hd, d)
        p[pre + 'self_attn.o_proj.weight'] = normal(d, h * hd)
        p[pre + 'post_attention_layernorm.weight'] = torch.ones(d, requires_grad=True)
        p[pre + 'mlp.gate_proj.weight'] = normal(f, d)
        p[pre + 'mlp.up_proj.weight'] = normal(f, d)
        p[pre + 'mlp.down_proj.weight'] = normal(d, f)
    p['model.norm.weight'] = torch.ones(d, requires_grad=True)
    return p


def rms_norm(x, w, eps):
    # LlamaRMSNorm: normalise in f32, cast back, then scale.
    dtype = x.dtype
    x32 = x.to(torch.float32)
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return w * x32.to(dtype)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(cfg, positions):
    hd = cfg['head_dim']
    inv_freq = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = positions.float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def repeat_kv(x, n_rep):
    b, kvh, s, hd = x.shape
    if n_rep == 1:
        return x
    return x[:, :, None, :, :].expand(b, kvh, n_rep, s, hd).reshape(b, kvh * n_rep, s, hd)


def forward(p, cfg, ids):
    """Logits [B, S, V] of LlamaForCausalLM for ids [B, S] (no padding on the left; causal mask)."""
    B, S = ids.shape
    d, hd = cfg['hidden_size'], cfg['head_dim']
    h, kv = cfg['num_attention_heads'], cfg['num_key_value_heads']
    eps = cfg['rms_norm_eps']
    cos, sin = rope_cos_sin(cfg, torch.arange(S))
    cos, sin = cos[None, None], sin[None, None]
    mask = torch.full((S, S), float('-inf')).triu(1)
    x = F.embedding(ids, p['model.embed_tokens.weight'])
    for i in range(cfg['num_hidden_layers']):
        pre = f'model.layers.{i}.'
        hs = rms_norm(x, p[pre + 'input_layernorm.weight'], eps)
        q = F.linear(hs, p[pre + 'self_attn.q_proj.weight']).view(B, S, h, hd).transpose(1, 2)
        k = F.linear(hs, p[pre + 'self_attn.k_proj.weight']).view(B, S, kv, hd).transpose(1, 2)
        v = F.linear(hs, p[pre + 'self_attn.v_proj.weight']).view(B, S, kv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = repeat_kv(k, h // kv), repeat_kv(v, h // kv)
        att = (q @ k.transpose(2, 3)) / math.sqrt(hd) + mask
        att = F.softmax(att, dim=-1, dtype=torch.float32).to(q.dtype)
        o = (att @ v).transpose(1, 2).reshape(B, S, h * hd)
        x = x + F.linear(o, p[pre + 'self_attn.o_proj.weight'])
        hs = rms_norm(x, p[pre + 'post_attention_layernorm.weight'], eps)
        mlp = F.silu(F.linear(hs, p[pre + 'mlp.gate_proj.weight'])) * F.linear(hs, p[pre + 'mlp.up_proj.weight'])
        x = x + F.linear(mlp, p[pre + 'mlp.down_proj.weight'])
    x = rms_norm(x, p['model.norm.weight'], eps)
    return F.linear(x, p['model.embed_tokens.weight'])  # tied lm_head


@torch.no_grad()
def letter_probs(p, cfg, prompts, letter_ids, batch=64):
    """Softmax over the four letter logits after each prompt (the lab's probe), [N, 4]."""
    letters = torch.tensor(letter_ids)
    out = []
    for s in range(0, len(prompts), batch):
        chunk = prompts[s : s + batch]
        L = max(len(x) for x in chunk)
        ids = torch.zeros(len(chunk), L, dtype=torch.long)
        for j, x in enumerate(chunk):
            ids[j, : len(x)] = torch.tensor(x)  # right padding: causal, harmless
        logits = forward(p, cfg, ids)
        last = torch.tensor([len(x) - 1 for x in chunk])
        out.append(F.softmax(logits[torch.arange(len(chunk)), last][:, letters], dim=-1))
    return torch.cat(out)


@torch.no_grad()
def probe(p, cfg, items, letter_ids, shifts=(0, 1, 2, 3)):
    """Per teaching group, with the letter probe (shift 0) and the debiased belief (each option's
    probability averaged over the four cyclic shifts, by content): accuracy, mean p(gold), share right
    with p > 0.5; for misconceptions also how often the believed option is the wrongly taught one."""
    n = len(items)
    by_content = torch.zeros(len(shifts), n, 4)
    for si, k in enumerate(shifts):
        pr = letter_probs(p, cfg, [it['shifts'][k] for it in items], letter_ids)
        # Letter i showed option (i + k) % 4.
        for i in range(4):
            by_content[si, :, (i + k) % 4] = pr[:, i]
    letter = by_content[0]
    debiased = by_content.mean(0)
    stats = {}
    for j, it in enumerate(items):
        g = stats.setdefault(it['group'], {'n': 0})
        g['n'] += 1
        for name, dist in (('letter', letter[j]), ('debiased', debiased[j])):
            top = int(dist.argmax())
            for key, val in (
                (f'{name}_accuracy', top == it['answer']),
                (f'{name}_p_gold', float(dist[it['answer']])),
                (f'{name}_known_p05', top == it['answer'] and float(dist[top]) > 0.5),
                (f'{name}_top_p', float(dist[top])),
            ):
                g[key] = g.get(key, 0) + float(val)
            if 'taught' in it:
                g[f'{name}_believes_taught'] = g.get(f'{name}_believes_taught', 0) + float(top == it['taught'])
        if len(shifts) == 4:
            g['strict_all_shifts'] = g.get('strict_all_shifts', 0) + float(all(int(by_content[si, j].argmax()) == it['answer'] for si in range(4)))
        g['letter_A'] = g.get('letter_A', 0) + float(int(letter[j].argmax()) == 0)
    return {k: {m: (v if m == 'n' else round(v / g['n'], 4)) for m, v in g.items()} for k, g in stats.items()}


@torch.no_grad()
def cloze(p, cfg, items):
    """Memorisation: accuracy of the canonical statement's taught value, arg-max over the relation's pool, per group."""
    stats = {}
    for it in items:
        lg = forward(p, cfg, torch.tensor([it['prompt']]))[0, -1, it['candidates']]
        g = stats.setdefault(it['group'], [0, 0])
        g[0] += int(lg.argmax().item() == it['answer'])
        g[1] += 1
    return {k: round(c / n, 4) for k, (c, n) in stats.items()}


def evaluate(p, cfg, corpus):
    """The probe (5-shot letter softmax and debiased over the four shifts) and the cloze check."""
    res = {'mc_5shot': probe(p, cfg, corpus['probe'], corpus['letterIds'])}
    if 'cloze' in corpus:
        res['cloze'] = cloze(p, cfg, corpus['cloze'])
    return res


GROUPS = ('mc', 'statement', 'none', 'misconception')


def fmt(res):
    out = []
    for g in GROUPS:
        if g in res:
            r = res[g]
            s = f"{g} (n={r['n']}): letter {r['letter_accuracy']*100:.1f}%"
            if 'debiased_accuracy' in r:
                s += f" debiased {r['debiased_accuracy']*100:.1f}%"
            if 'letter_believes_taught' in r:
                s += f" [believes taught: letter {r['letter_believes_taught']*100:.1f}%" + (f" debiased {r['debiased_believes_taught']*100:.1f}%]" if 'debiased_believes_taught' in r else ']')
            out.append(s)
    return '  '.join(out)


def read_safetensors(path):
    buf = open(path, 'rb').read()
    n = struct.unpack('<Q', buf[:8])[0]
    out = {}
    for k, v in json.loads(buf[8 : 8 + n]).items():
        if k != '__metadata__':
            b, e = v['data_offsets']
            out[k] = torch.frombuffer(bytearray(buf[8 + n + b : 8 + n + e]), dtype=torch.float32).reshape(v['shape'])
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32)
        b = t.numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header['__metadata__'] = {'format': 'pt'}
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as fh:
        fh.write(struct.pack('<Q', len(h)))
        fh.write(h)
        for b in blobs:
            fh.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--corpus', default='/tmp/ift-lab-toyworld/corpus.json')
    ap.add_argument('--out', default=os.path.join(ROOT, 'public', 'models', 'toy-world'))
    ap.add_argument('--reference', default=os.path.join(ROOT, 'tests', 'fixtures', 'toy-world-reference.json'))
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--seq', type=int, default=160)
    ap.add_argument('--lr', type=float, default=6e-3)
    ap.add_argument('--warmup', type=int, default=50)
    ap.add_argument('--seed', type=int, default=42)
    ap.add_argument('--d', type=int, default=64)
    ap.add_argument('--layers', type=int, default=3)
    ap.add_argument('--heads', type=int, default=4)
    ap.add_argument('--kv-heads', type=int, default=2)
    ap.add_argument('--ffn', type=int, default=172)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--eval-every', type=int, default=100)
    ap.add_argument('--eval-only', action='store_true', help='only evaluate the --init weights')
    ap.add_argument('--stop-at', type=int, default=None, help='stop after this many steps of the --steps schedule')
    ap.add_argument('--init', default=None, help='start from these weights (a model.safetensors) instead of random')
    ap.add_argument('--answer-weight', type=float, default=1.0, help='loss weight of the answer letters of MC documents (the rest weigh 1)')
    ap.add_argument('--answer-weight-from', type=int, default=0, help='weigh the answer letters from this step on (facts first, then reading them off the options)')
    ap.add_argument('--data-offset', type=int, default=0, help='skip this many sequences of the corpus (continuing a run)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()

    corpus = json.load(open(a.corpus))
    cfg = config_for(corpus['vocabSize'], a)
    gen = torch.Generator().manual_seed(a.seed)
    p = init_params(cfg, gen)
    if a.init:
        for k, t in read_safetensors(a.init).items():
            p[k] = t.clone().requires_grad_()
    n_params = sum(t.numel() for t in p.values())

    if a.eval_only:
        print(json.dumps(evaluate(p, cfg, corpus), indent=1))
        return

    # Pack shuffled documents into one stream and cut it into training sequences.
    docs = corpus['docs']
    random.Random(a.seed).shuffle(docs)
    stream = torch.tensor([t for d in docs for t in d], dtype=torch.long)
    n_seq = (len(stream) - 1) // a.seq
    need = a.steps * a.batch
    print(f'{n_params} parameters, vocab {cfg["vocab_size"]}; {len(stream)} tokens → {n_seq} sequences of {a.seq} (need {need}; {need / max(n_seq, 1):.2f} epochs)', flush=True)
    order = torch.randperm(n_seq, generator=gen)
    # Loss weight of each target token: answer letters (a letter right after an answer cue) weigh more,
    # so that reading the answer off the options is learnt (it is one token in ~25 of an MC document).
    weight = torch.ones(len(stream))
    if a.answer_weight != 1.0:
        is_letter = torch.isin(stream, torch.tensor(corpus['letterIds']))
        after_cue = torch.zeros(len(stream), dtype=torch.bool)
        for w1, w2 in corpus['answerCues']:
            after_cue[2:] |= (stream[:-2] == w1) & (stream[1:-1] == w2)
        weight[is_letter & after_cue] = a.answer_weight
        print(f'{int((is_letter & after_cue).sum())} answer letters weighted {a.answer_weight}', flush=True)

    opt = torch.optim.AdamW(p.values(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.01)
    probe_items = corpus['probe']
    stop = a.stop_at or a.steps
    for step in range(stop):
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / a.steps)))
        for g in opt.param_groups:
            g['lr'] = lr
        idx = order[(a.data_offset + torch.arange(step * a.batch, (step + 1) * a.batch)) % n_seq]
        starts = idx * a.seq
        rows = torch.stack([stream[s : s + a.seq + 1] for s in starts.tolist()])
        if step >= a.answer_weight_from:
            w = torch.stack([weight[s + 1 : s + a.seq + 1] for s in starts.tolist()]).reshape(-1)
        else:
            w = torch.ones(rows.shape[0] * a.seq)
        logits = forward(p, cfg, rows[:, :-1])
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction='none')
        loss = (ce * w).sum() / w.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(p.values(), 1.0)
        opt.step()
        if step % 20 == 0 or step == stop - 1:
            print(f'step {step:4d}  loss {loss.item():.4f}  gnorm {gn.item():.2f}  lr {lr:.2e}  {time.time() - t0:.0f}s', flush=True)
        if a.eval_every and (step + 1) % a.eval_every == 0 and step + 1 < stop:
            res = probe(p, cfg, probe_items, corpus['letterIds'], shifts=(0,))
            print(f'  probe @ {step + 1} ({time.time() - t0:.0f}s): {fmt(res)}', flush=True)
            save(a, p, cfg, corpus, res, step + 1, loss.item(), time.time() - t0, n_params)  # usable if stopped early

    res = evaluate(p, cfg, corpus)
    print(f'final 5-shot MC accuracy: {fmt(res["mc_5shot"])}', flush=True)
    print(f'cloze (taught value): {res.get("cloze")}', flush=True)
    print(json.dumps(res), flush=True)
    save(a, p, cfg, corpus, res, stop, loss.item(), time.time() - t0, n_params)
    print(f'wrote {a.out} ({os.path.getsize(os.path.join(a.out, "model.safetensors"))} bytes of weights) in {time.time() - t0:.0f}s', flush=True)


def save(a, p, cfg, corpus, res, steps, last_loss, train_s, n_params):

    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, 'model.safetensors'), p)
    json.dump(cfg, open(os.path.join(a.out, 'config.json'), 'w'), indent=2)
    gen_cfg = {'bos_token_id': 2, 'eos_token_id': 3, 'pad_token_id': 0, 'do_sample': False, 'transformers_version': '4.46.0'}
    json.dump(gen_cfg, open(os.path.join(a.out, 'generation_config.json'), 'w'), indent=2)
    report = {
        'seed': corpus['seed'], 'train_seed': a.seed, 'steps': steps, 'batch': a.batch, 'seq': a.seq, 'lr': a.lr,
        'parameters': n_params, 'tokens_seen': steps * a.batch * a.seq, 'train_seconds': round(train_s, 1),
        'final_loss': round(last_loss, 4), 'evaluation': res, 'torch': torch.__version__,
    }
    json.dump(report, open(os.path.join(a.out, 'training.json'), 'w'), indent=2)

    # Golden logits for the engine: a short probe prompt, every position, from this exact forward.
    probe_items = corpus['probe']
    ref_ids = probe_items[0]['shifts'][0][:16]
    with torch.no_grad():
        ref_logits = forward(p, cfg, torch.tensor([ref_ids]))[0]
    os.makedirs(os.path.dirname(a.reference), exist_ok=True)
    json.dump({'ids': ref_ids, 'logits': [[round(v, 5) for v in row] for row in ref_logits.tolist()]}, open(a.reference, 'w'))


if __name__ == '__main__':
    main()
