/**
 * The Model page's settings, kept in the store: the model id and revision, the Hub endpoint (a mirror), and
 * where the lab runs ("Run on": auto, webgpu or cpu; src/engine/backend.ts).
 */
import { PersistedForm } from './settings.svelte';

export const modelForm = new PersistedForm('model', { id: 'builtin:toy-world', revision: 'main', endpoint: '', device: 'auto' });
