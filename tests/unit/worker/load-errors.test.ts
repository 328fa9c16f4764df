// A failed model load said for where the files came from (issue 26, item 6).
import { describe, expect, it } from 'vitest';
import { DownloadError } from '../../../src/model/errors';
import { loadErrorFor } from '../../../src/worker/load-errors';

describe('loadErrorFor', () => {
  it('a folder from disk: names the folder and the missing file, no Hub advice', () => {
    const e = loadErrorFor(new DownloadError('local:bad', 'model.safetensors', 404, 'the folder has neither model.safetensors nor model.safetensors.index.json'), { id: 'local:bad', folder: true }) as { code: string; message: string; advice: string };
    expect(e.code).toBe('folder-incomplete');
    expect(e.message).toBe('The folder "bad" lacks model.safetensors: the folder has neither model.safetensors nor model.safetensors.index.json.');
    expect(`${e.message} ${e.advice}`).not.toMatch(/huggingface\.co|Could not download|revision/i);
  });
  it('a mirror is named, unreachable or without the file', () => {
    const net = loadErrorFor(new DownloadError('a/b', 'config.json', null, 'network error (Failed to fetch)'), { id: 'a/b', folder: false, endpoint: 'https://mirror.example/' }) as { message: string; advice: string };
    expect(net.message).toBe('Could not fetch config.json of a/b from the mirror https://mirror.example: network error (Failed to fetch).');
    expect(net.advice).toMatch(/^The mirror https:\/\/mirror\.example could not be reached/);
    const missing = loadErrorFor(new DownloadError('a/b', 'config.json', 404, 'HTTP 404 from https://mirror.example/a/b/resolve/main/config.json'), { id: 'a/b', folder: false, endpoint: 'https://mirror.example' }) as { advice: string };
    expect(missing.advice).toMatch(/^The mirror answered but has no config\.json for "a\/b"/);
  });
  it('no network to huggingface.co says so; a bad id keeps its own message', () => {
    const net = loadErrorFor(new DownloadError('a/b', 'config.json', null, 'network error (Failed to fetch)'), { id: 'a/b', folder: false }) as { message: string };
    expect(net.message).toBe('Could not reach huggingface.co for config.json of a/b: network error (Failed to fetch).');
    const bad = new DownloadError('ab', '(model)', null, 'the model id must look like "owner/name"');
    expect(loadErrorFor(bad, { id: 'ab', folder: false })).toBe(bad);
  });
});
