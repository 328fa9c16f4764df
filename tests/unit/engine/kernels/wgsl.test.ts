import { describe, expect, it } from 'vitest';
import { expandIncludes, wgsl } from '../../../../src/engine/kernels/wgsl';

describe('expandIncludes', () => {
  const src = {
    'k/a.wgsl': 'A0\n// #include "../common/c.wgsl"\nA1\n',
    'common/c.wgsl': 'C0\n  // #include "d.wgsl"\nC1\n',
    'common/d.wgsl': 'D\n',
  };

  it('pastes includes in place, relative to the including file, recursively', () => {
    expect(expandIncludes('k/a.wgsl', src)).toBe('A0\nC0\nD\nC1\nA1\n');
  });

  it('pastes a file as often as it is included', () => {
    const s = { ...src, 'k/b.wgsl': 'fn f() {\n  // #include "../common/d.wgsl"\n}\nfn g() {\n  // #include "../common/d.wgsl"\n}\n' };
    expect(expandIncludes('k/b.wgsl', s)).toBe('fn f() {\nD\n}\nfn g() {\nD\n}\n');
  });

  it('fills placeholders from the parameters, once per include', () => {
    const s = {
      'm.wgsl': '// #include "e.wgsl" {"NAME": "main", "TERM": ""}\n// #include "e.wgsl" {"NAME": "main_lora", "TERM": " + t(r)"}\n',
      'e.wgsl': 'fn {{NAME}}() { s(v{{TERM}}); }\n',
    };
    expect(expandIncludes('m.wgsl', s)).toBe('fn main() { s(v); }\nfn main_lora() { s(v + t(r)); }\n');
    expect(expandIncludes('e.wgsl', s, { NAME: 'x', TERM: '' })).toBe('fn x() { s(v); }\n');
  });

  it('names an unknown file, a cycle, a missing or unused parameter and bad JSON', () => {
    expect(() => expandIncludes('k/a.wgsl', { 'k/a.wgsl': '// #include "nope.wgsl"' })).toThrow(/no shader file k\/nope\.wgsl \(included by k\/a\.wgsl\)/);
    expect(() => expandIncludes('x.wgsl', { 'x.wgsl': '// #include "y.wgsl"', 'y.wgsl': '// #include "x.wgsl" {}' })).toThrow(
      /include cycle x\.wgsl → y\.wgsl → x\.wgsl/,
    );
    expect(() => expandIncludes('x.wgsl', { 'x.wgsl': '// #include "y.wgsl" {"A": "1"}', 'y.wgsl': '{{A}} {{B}}' })).toThrow(/needs parameter \{\{B\}\}/);
    expect(() => expandIncludes('x.wgsl', { 'x.wgsl': '// #include "y.wgsl" {"A": "1", "Z": "2"}', 'y.wgsl': '{{A}}' })).toThrow(/no \{\{…\}\} for: Z/);
    expect(() => expandIncludes('x.wgsl', { 'x.wgsl': '// #include "y.wgsl" {A: 1}', 'y.wgsl': '' })).toThrow(/x\.wgsl:1: .* not JSON/);
    expect(() => expandIncludes('x.wgsl', { 'x.wgsl': '// #include "y.wgsl" {"A": 1}', 'y.wgsl': '{{A}}' })).toThrow(/object of strings/);
    expect(() => expandIncludes('x.wgsl', { 'x.wgsl': '// #include "../../y.wgsl"' })).toThrow(/climbs above/);
  });

  it('leaves ordinary comments that mention include alone', () => {
    expect(expandIncludes('x.wgsl', { 'x.wgsl': '// we #include nothing here\n' })).toBe('// we #include nothing here\n');
  });
});

describe('wgsl (the bundled shaders)', () => {
  it('expands every shader under src/engine with no directive left over', () => {
    for (const path of ['kernels/matmul/matmul_tiled.wgsl', 'kernels/lora/lora_matmul.wgsl', 'optim/adamw_update.wgsl']) {
      const code = wgsl(path);
      expect(code.length).toBeGreaterThan(100);
      expect(code).not.toMatch(/#include/);
    }
  });
});
