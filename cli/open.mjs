// `import { open } from 'vmcore-workbench'`: the engine is TypeScript, compiled on the fly by tsx
// (as cli/vmcore.mjs does); open(path) gives the script API of a dump (cli/open.ts).
import { register } from 'tsx/esm/api';
register();
const m = await import('./open.ts');
export const open = m.open;
