/** Hash routes: #/model, #/probe … The hash keeps the app a single static page that any host can serve. */
export const PAGES = [
  { id: 'model', title: 'Model' },
  { id: 'probe', title: 'Probe' },
  { id: 'datasets', title: 'Datasets' },
  { id: 'train', title: 'Train' },
  { id: 'results', title: 'Results' },
  { id: 'history', title: 'History' },
] as const;
export type PageId = (typeof PAGES)[number]['id'];

function parse(hash: string): { page: PageId; rest: string } {
  const path = hash.replace(/^#\/?/, '');
  const [head, ...tail] = path.split('/');
  const page = (PAGES.find((p) => p.id === head)?.id ?? 'model') as PageId;
  return { page, rest: tail.join('/') };
}

class Router {
  current = $state(parse(globalThis.location?.hash ?? ''));

  constructor() {
    globalThis.addEventListener?.('hashchange', () => (this.current = parse(location.hash)));
  }

  go(page: PageId): void {
    location.hash = `#/${page}`;
  }
}

export const router = new Router();
