// `import { open } from 'vmcore-workbench'` (package.json "exports"): open(path) gives the script
// API of a dump (cli/open.ts), from the CLI bundle (cli/dist/open.mjs, scripts/build-cli.mjs):
// no TypeScript compiler at run time, so it works after `npm ci --omit=dev` too.
import { loadBuilt } from './built.cjs';

const m = await loadBuilt('open.mjs', new URL('./open.ts', import.meta.url).href);
export const open = m.open;
