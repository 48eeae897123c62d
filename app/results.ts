/**
 * Command results with the engine's own JSON types (exported by workers/api.ts next to the
 * commands that build them): one table from command to shape, instead of a cast and a local copy
 * of the type in every panel.
 */
import type {
  BtTaskJson, DisJson, EvalJson, HungJson, KmemCacheJson, KmemSRow, SlabGrid, ListJson, OopsJson, OverlayJson, PsRow, RunResult, SlabcheckJson, StacksJson,
  StructLayoutJson, SysJson, LogRecordJson,
} from './engine';

export interface CommandJson {
  bt: BtTaskJson[];
  sys: SysJson;
  oops: OopsJson;
  ps: PsRow[];
  'kmem -s': KmemSRow[];
  'kmem -S': KmemCacheJson;
  /** the slab map's line (slabMapLine): its JSON as typed arrays (RunOptions.slabGrid) */
  'slab map': SlabGrid;
  dis: DisJson;
  eval: EvalJson;
  list: ListJson;
  slabcheck: SlabcheckJson;
  log: LogRecordJson[];
  stacks: StacksJson;
  hung: HungJson;
  overlay: OverlayJson;
  /** `struct <type> -o` without an address: the layout */
  'struct -o': StructLayoutJson;
}

/** The JSON of a successful result of command `cmd` (undefined when it failed or has none). */
export function resultJson<K extends keyof CommandJson>(r: RunResult | undefined, _cmd: K): CommandJson[K] | undefined {
  return r?.ok && r.json !== undefined && r.json !== null ? (r.json as CommandJson[K]) : undefined;
}
