/**
 * Hash routes: #/ (the front page), #/model, #/probe … and #/share/<data>. The hash keeps the app a single static page that
 * any host can serve. A page's query (#/train?lr=0.0002) mirrors its experiment configuration.
 */
export const PAGES = [
  { id: 'model', title: 'Model' },
  { id: 'probe', title: 'Probe' },
  { id: 'datasets', title: 'Datasets' },
  { id: 'train', title: 'Train' },
  { id: 'results', title: 'Results' },
  { id: 'history', title: 'History' },
] as const;
export type PageId = (typeof PAGES)[number]['id'];
/** Routes that are not steps in the navigation: the front page and share links. */
export type RouteId = PageId | 'share' | 'home';

export interface Route {
  page: RouteId;
  /** The path after the page, e.g. the data of a share link. */
  rest: string;
  /** The page's query, e.g. { lr: '0.0002' }. */
  query: Record<string, string>;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return '';
  }
}

function parseQuery(q: string): Record<string, string> {
  // No prototype: a key such as "__proto__" in a pasted link stays a plain key.
  const out: Record<string, string> = Object.create(null);
  for (const part of q.split('&').slice(0, 100)) {
    const eq = part.indexOf('=');
    if (part) out[decode(eq < 0 ? part : part.slice(0, eq))] = decode(eq < 0 ? '' : part.slice(eq + 1));
  }
  return out;
}

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  if (path.startsWith('share/') || path === 'share') return { page: 'share', rest: path.slice(6), query: {} };
  const q = path.indexOf('?');
  const [head, ...tail] = (q >= 0 ? path.slice(0, q) : path).split('/');
  // The front page for #/, an empty hash and any address the app does not know.
  const page: RouteId = PAGES.find((p) => p.id === head)?.id ?? 'home';
  return { page, rest: tail.join('/'), query: q >= 0 ? parseQuery(path.slice(q + 1)) : {} };
}

class Router {
  current = $state(parseHash(globalThis.location?.hash ?? ''));

  constructor() {
    globalThis.addEventListener?.('hashchange', () => (this.current = parseHash(location.hash)));
  }

  go(page: PageId | 'home'): void {
    location.hash = page === 'home' ? '#/' : `#/${page}`;
  }

  /** Mirror a page's configuration in the address without a new history entry or a navigation. */
  setQuery(page: PageId, values: Record<string, string | number | boolean>): void {
    if (this.current.page !== page) return;
    const query = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)]));
    const hash = `#/${page}?${Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
    if (location.hash === hash) return;
    history.replaceState(history.state, '', hash);
    this.current = { page, rest: '', query };
  }
}

export const router = new Router();
