/** The Model page's settings, kept in the store: the model id and revision, and the Hub endpoint (a mirror). */
import { PersistedForm } from './settings.svelte';

export const modelForm = new PersistedForm('model', { id: 'builtin:toy-world', revision: 'main', endpoint: '' });
