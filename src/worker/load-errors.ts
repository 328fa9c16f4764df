/**
 * A failed model load explained for where the files came from (issue 26, item 6): a folder from disk is not
 * "downloaded" and has no revision on huggingface.co; a mirror is named, so that an unreachable mirror does not
 * read like no network at all.
 */
import { LabError } from '../lab/errors';

interface DownloadLike {
  code?: string;
  message?: string;
  file?: string;
  status?: number | null;
}

const HUB = 'https://huggingface.co';

export function loadErrorFor(e: unknown, where: { id: string; folder: boolean; endpoint?: string }): unknown {
  const d = e as DownloadLike | null;
  if (!d || typeof d.code !== 'string' || !d.code.startsWith('download-')) return e;
  const file = d.file ?? 'a file';
  // "Could not download X of Y: detail." — the detail is what went wrong.
  const detail = /: (.*)\.$/.exec(d.message ?? '')?.[1] ?? d.message ?? '';
  if (where.folder) {
    const name = where.id.replace(/^local:/, '');
    return new LabError(
      'folder-incomplete',
      `The folder "${name}" lacks ${file}: ${detail}.`,
      'Open the folder that holds a whole Hugging Face model: config.json, tokenizer.json, tokenizer_config.json and model.safetensors (or its shards with model.safetensors.index.json), e.g. one made by huggingface-cli download.',
    );
  }
  const network = /^network error/.test(detail);
  // A malformed id or revision is the id's fault, wherever it was to be fetched from.
  if ((d.status === null || d.status === undefined) && !network) return e;
  const endpoint = where.endpoint?.replace(/\/+$/, '');
  if (endpoint && endpoint !== HUB) {
    return new LabError(
      d.code,
      `Could not fetch ${file} of ${where.id} from the mirror ${endpoint}: ${detail}.`,
      d.status === 404
        ? `The mirror answered but has no ${file} for "${where.id}": check that it serves this model and revision, or clear the Hub endpoint (Model page) to use huggingface.co.`
        : network
          ? `The mirror ${endpoint} could not be reached: check its address (Model page → Hub endpoint) and that it allows this page (CORS), or clear it to use huggingface.co.`
          : `The mirror ${endpoint} refused the request: check its address and access, or clear it to use huggingface.co.`,
    );
  }
  if (network)
    return new LabError(d.code, `Could not reach huggingface.co for ${file} of ${where.id}: ${detail}.`, 'Check your connection (or a firewall or proxy that blocks huggingface.co) and try again; finished files stay cached, so only the rest is fetched.');
  return e;
}
