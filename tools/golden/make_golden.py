#!/usr/bin/env python3
"""Independent golden values for the tiny fixture models (tools only; CI never runs this).

Reads a fixture's config.json + model.safetensors (written by `node scripts/make-fixtures.mjs`) and computes,
with its own plain-PyTorch implementation of HF Llama / Qwen2 in float64 (RMSNorm, rotate-half RoPE,
repeat_kv GQA, SwiGLU, q/k/v bias for qwen2):
  * logits for a fixed batch (2 sequences, the second right-padded),
  * for two LoRA cases (q+v, and all seven targets; rank 4, alpha 8, no dropout; A and B seeded, B nonzero):
    the masked mean cross-entropy, every LoRA gradient, the global grad norm, and the LoRA parameters after
    clip_grad_norm_ (max_norm 5.0 for q+v: not triggered; 1.0 for all seven: triggered) + one torch.optim.AdamW step (lr 1e-2, betas (0.9, 0.999), eps 1e-8, wd 0.01).
Writes tests/fixtures/golden/{name}.json (inputs, scalars, hashes) and {name}.safetensors (F32 tensors).

Usage: LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread /usr/bin/python3 tools/golden/make_golden.py
"""
import hashlib
import json
import math
import os
import struct
import sys

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
GEN = os.path.join(ROOT, 'tests', 'fixtures', 'generated')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'golden')
DT = torch.float64
IGNORE = -100

TARGET_MODULES = {
    'q': 'self_attn.q_proj', 'k': 'self_attn.k_proj', 'v': 'self_attn.v_proj', 'o': 'self_attn.o_proj',
    'gate': 'mlp.gate_proj', 'up': 'mlp.up_proj', 'down': 'mlp.down_proj',
}


def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', t['dtype']
        b, e = t['data_offsets']
        buf = bytearray(data[8 + n + b:8 + n + e])
        out[name] = torch.frombuffer(buf, dtype=torch.float32).reshape(t['shape']).to(DT)
    return out, hashlib.sha256(data).hexdigest()


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {'__metadata__': metadata}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))


def rms_norm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_inv_freq(cfg, Dh):
    """theta^(-2i/Dh), with HF's "llama3" rescaling (_compute_llama3_parameters) when configured."""
    inv = 1.0 / (cfg['rope_theta'] ** (torch.arange(0, Dh, 2, dtype=DT) / Dh))
    rs = cfg.get('rope_scaling')
    if not rs:
        return inv
    assert rs.get('rope_type', rs.get('type')) == 'llama3'
    factor, low, high, old = rs['factor'], rs['low_freq_factor'], rs['high_freq_factor'], rs['original_max_position_embeddings']
    low_wavelen, high_wavelen = old / low, old / high
    out = []
    for f in inv.tolist():
        wavelen = 2 * math.pi / f
        if wavelen < high_wavelen:
            out.append(f)
        elif wavelen > low_wavelen:
            out.append(f / factor)
        else:
            smooth = (old / wavelen - low) / (high - low)
            out.append((1 - smooth) * f / factor + smooth * f)
    return torch.tensor(out, dtype=DT)


def forward(cfg, W, ids, mask, lora=None, scaling=0.0):
    """HF LlamaForCausalLM / Qwen2ForCausalLM forward (eager attention), float64. lora: {(layer, target): (A, B)}."""
    B, S = ids.shape
    d, H, KV = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    Dh = cfg.get('head_dim') or d // H
    eps = cfg['rms_norm_eps']
    bias = cfg['model_type'] == 'qwen2'

    def lin(x, layer, tgt, has_bias=False):
        name = f'model.layers.{layer}.{TARGET_MODULES[tgt]}'
        y = x @ W[name + '.weight'].T
        if has_bias:
            y = y + W[name + '.bias']
        if lora and (layer, tgt) in lora:
            A, Bm = lora[(layer, tgt)]
            y = y + scaling * ((x @ A.T) @ Bm.T)
        return y

    pos = torch.arange(S, dtype=DT)  # right padding: positions 0..S-1 (HF's default without position_ids)
    inv = rope_inv_freq(cfg, Dh)
    emb = torch.cat([torch.outer(pos, inv)] * 2, dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]
    # Causal + key padding mask (HF's 4D mask): query i sees key j ≤ i whose attention_mask is 1.
    allowed = torch.tril(torch.ones(S, S, dtype=torch.bool))[None, None] & mask.bool()[:, None, None, :]
    x = W['model.embed_tokens.weight'][ids]
    for i in range(cfg['num_hidden_layers']):
        p = f'model.layers.{i}.'
        h = rms_norm(x, W[p + 'input_layernorm.weight'], eps)
        q = lin(h, i, 'q', bias).view(B, S, H, Dh).transpose(1, 2)
        k = lin(h, i, 'k', bias).view(B, S, KV, Dh).transpose(1, 2)
        v = lin(h, i, 'v', bias).view(B, S, KV, Dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)  # repeat_kv
        v = v.repeat_interleave(H // KV, dim=1)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(Dh)
        s = s.masked_fill(~allowed, float('-inf'))
        a = torch.softmax(s, dim=-1) @ v
        x = x + lin(a.transpose(1, 2).reshape(B, S, H * Dh), i, 'o')
        h = rms_norm(x, W[p + 'post_attention_layernorm.weight'], eps)
        g = lin(h, i, 'gate')
        x = x + lin(torch.nn.functional.silu(g) * lin(h, i, 'up'), i, 'down')
    x = rms_norm(x, W['model.norm.weight'], eps)
    head = W['model.embed_tokens.weight'] if cfg.get('tie_word_embeddings') else W['lm_head.weight']
    return x @ head.T


def peft_name(layer, tgt, ab):
    return f'base_model.model.model.layers.{layer}.{TARGET_MODULES[tgt]}.lora_{ab}.weight'


def lora_case(cfg, W, ids, mask, targets, case, seed):
    r, alpha = 4, 8
    torch.manual_seed(seed)
    d, H, KV = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']
    Dh = cfg.get('head_dim') or d // H
    f = cfg['intermediate_size']
    dims = {'q': (d, H * Dh), 'k': (d, KV * Dh), 'v': (d, KV * Dh), 'o': (H * Dh, d), 'gate': (d, f), 'up': (d, f), 'down': (f, d)}
    lora, params, names = {}, [], []
    for i in range(cfg['num_hidden_layers']):
        for t in case['targets']:
            fin, fout = dims[t]
            # A as PEFT's kaiming_uniform(a=√5) = U(±1/√in); B small and nonzero so every gradient is nonzero.
            A = ((torch.rand(r, fin, dtype=DT) * 2 - 1) / math.sqrt(fin)).to(torch.float32).to(DT).requires_grad_()
            Bm = ((torch.rand(fout, r, dtype=DT) * 2 - 1) * case['b_scale']).to(torch.float32).to(DT).requires_grad_()
            lora[(i, t)] = (A, Bm)
            params += [A, Bm]
            names += [peft_name(i, t, 'A'), peft_name(i, t, 'B')]
    init = {n: p.detach().clone() for n, p in zip(names, params)}
    logits = forward(cfg, W, ids, mask, lora, alpha / r)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in zip(names, params)}
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads.values())).item()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm=case['max_norm'])
    assert abs(total.item() - norm) < 1e-12
    opt = torch.optim.AdamW(params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    opt.step()
    after = {n: p.detach().clone() for n, p in zip(names, params)}
    meta = {
        'name': case['name'], 'targets': case['targets'], 'rank': r, 'alpha': alpha, 'dropout': 0.0,
        'init_seed': seed, 'b_init_scale': case['b_scale'], 'loss': loss.item(), 'grad_norm': norm,
        'clip_max_norm': case['max_norm'], 'clip_coef': min(1.0, case['max_norm'] / (norm + 1e-6)), 'clipped': norm > case['max_norm'],
        'optimizer': {'kind': 'AdamW', 'lr': 1e-2, 'betas': [0.9, 0.999], 'eps': 1e-8, 'weight_decay': 0.01, 'steps': 1},
        'tensors': names,
    }
    tensors = {}
    for n in names:
        tensors[f'{case["name"]}/init/{n}'] = init[n]
        tensors[f'{case["name"]}/grad/{n}'] = grads[n]
        tensors[f'{case["name"]}/after/{n}'] = after[n]
    return meta, tensors


def main(names):
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        d = os.path.join(GEN, name)
        with open(os.path.join(d, 'config.json')) as fh:
            cfg = json.load(fh)
        W, sha = read_safetensors(os.path.join(d, 'model.safetensors'))
        V = cfg['vocab_size']
        # Two sequences of 8: the second has 5 real tokens, then right padding (pad id 0, mask 0).
        ids = torch.tensor([[257, 262, 72, 116, 258, 289, 263, 101], [261, 66, 290, 33, 258, 0, 0, 0]])
        mask = torch.tensor([[1] * 8, [1] * 5 + [0] * 3])
        # Next-token targets; the first two positions (a "prompt") and padded/last positions are ignored.
        targets = torch.full_like(ids, IGNORE)
        for b in range(2):
            n = int(mask[b].sum())
            for t in range(2, n - 1):
                targets[b, t] = ids[b, t + 1]
        with torch.no_grad():
            logits = forward(cfg, W, ids, mask)
        tensors = {'logits': logits}
        cases = [
            {'name': 'qv', 'targets': ['q', 'v'], 'b_scale': 0.02, 'max_norm': 5.0},
            {'name': 'all', 'targets': ['q', 'k', 'v', 'o', 'gate', 'up', 'down'], 'b_scale': 0.2, 'max_norm': 1.0},
        ]
        metas = []
        for ci, case in enumerate(cases):
            meta, t = lora_case(cfg, W, ids, mask, targets, case, seed=1000 + ci)
            metas.append(meta)
            tensors.update(t)
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=IGNORE).item()
        golden = {
            'format': 'ift-lab-golden/1',
            'fixture': name,
            'generator': 'tools/golden/make_golden.py (plain PyTorch %s, float64)' % torch.__version__,
            'model_safetensors_sha256': sha,
            'config': cfg,
            'input_ids': ids.tolist(),
            'attention_mask': mask.tolist(),
            'position_ids': [list(range(ids.shape[1]))] * 2,
            'targets': targets.tolist(),
            'ignore_index': IGNORE,
            'logits_note': 'logits [2, 8, vocab] in the .safetensors; rows where attention_mask is 0 follow HF masking and are not meaningful',
            'base_loss': ce,
            'lora_cases': metas,
            'tensors_file': name + '.safetensors',
        }
        write_safetensors(os.path.join(OUT, name + '.safetensors'), tensors, {'format': 'ift-lab-golden/1', 'fixture': name})
        with open(os.path.join(OUT, name + '.json'), 'w') as fh:
            json.dump(golden, fh, indent=1)
            fh.write('\n')
        print(name, 'base loss %.6f' % ce, ' '.join('%s: loss %.6f norm %.4f clipped %s' % (m['name'], m['loss'], m['grad_norm'], m['clipped']) for m in metas))


if __name__ == '__main__':
    main(sys.argv[1:] or ['tiny-llama', 'tiny-llama-untied', 'tiny-qwen2', 'tiny-llama3'])
