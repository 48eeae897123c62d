/**
 * The CLI bundle's stand-in for fflate (scripts/build-cli.mjs aliases `fflate` to this file).
 * In Node the engine inflates zlib pages with Node's own zlib (workers/node.ts installs it), so
 * fflate, which builds its decoding tables when it is imported (tens of ms at every start), is
 * never called there; the browser build keeps the real fflate.
 */
export function unzlibSync(): Uint8Array {
  throw new Error('fflate is not part of the CLI bundle: Node inflates with node:zlib (setNativeZlib)');
}
