#!/usr/bin/env node
// Compares two folders written by tests/helpers/readback-hashes.ts (IFT_READBACK_HASHES=folder):
// every read-back hash must match; shaders whose normalised WGSL changed are listed (their code shape
// changed, so a GPU timing should confirm them). Exit 1 on any read-back difference or a file not run after.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [before, after] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: node scripts/compare-readback-hashes.mjs BEFORE AFTER');
  process.exit(2);
}
let reads = 0;
let bad = 0;
let missing = 0;
const changedShaders = new Set();
for (const f of readdirSync(before).filter((n) => n.endsWith('.json'))) {
  const a = JSON.parse(readFileSync(join(before, f), 'utf8'));
  let b;
  try {
    b = JSON.parse(readFileSync(join(after, f), 'utf8'));
  } catch {
    console.log(`${f}: missing after`);
    missing++;
    continue;
  }
  for (const [test, hs] of Object.entries(a.reads)) {
    const hb = b.reads[test] ?? [];
    if (hs.length !== hb.length) {
      console.log(`${f} › ${test}: ${hs.length} reads before, ${hb.length} after`);
      bad++;
    }
    for (let i = 0; i < Math.min(hs.length, hb.length); i++) {
      reads++;
      if (hs[i] !== hb[i]) {
        console.log(`${f} › ${test}: read ${i} ${hs[i]} → ${hb[i]}`);
        bad++;
      }
    }
  }
  for (const [k, h] of Object.entries(a.shaders)) if (b.shaders[k] !== h) changedShaders.add(`${k} (${b.shaders[k] ? 'changed' : 'not built'})`);
}
console.log(`${reads} read-backs compared, ${bad} differences${missing ? `, ${missing} test files not run after` : ''}`);
for (const s of [...changedShaders].sort()) console.log(`shader code changed: ${s}`);
process.exit(bad || missing ? 1 : 0);
