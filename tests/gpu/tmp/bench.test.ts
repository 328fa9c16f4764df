import { it } from 'vitest';
import { benchModel } from '../../../bench/model';
import { testRuntime } from '../../helpers/gpu';
it('bench', async () => {
  const rt = await testRuntime();
  console.log(JSON.stringify(await benchModel(rt, {}), null, 1));
}, 300000);
