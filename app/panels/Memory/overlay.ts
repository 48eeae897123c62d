/**
 * Loading struct layouts for the overlay (`struct <type> -o --json`, cached per dump) and turning
 * a type name, or a composite "struct request + PDU (driver command)", into placed members.
 */
import { useEffect, useState } from 'react';
import type { RunResult } from '../../engine';
import { useApp } from '../../store';
import { resultJson } from '../../results';
import {
  bareType,
  compositeNames,
  coverMap,
  isTypeName,
  layoutParts,
  placeMembers,
  type OverlayPart,
  type PlacedMember,
  type StructLayout,
} from './hexmodel';

/** Run a read-only command once per dump and line, through the store's one cache of results. */
export function cachedRun(session: string, line: string): Promise<RunResult> {
  return useApp.getState().cached(session, line);
}

export async function structLayout(session: string, type: string): Promise<StructLayout | { error: string }> {
  const name = bareType(type);
  const kind = /^union\s/.test(type.trim()) ? 'union' : 'struct';
  const r = await cachedRun(session, `${kind} ${name} -o --json`);
  if (!r.ok) return { error: r.error ?? 'failed' };
  const j = resultJson(r, 'struct -o');
  if (!j || !Array.isArray(j.members)) return { error: `${kind} ${name}: no layout` };
  return j;
}

export interface Overlay {
  /** the type string as in the URL */
  type: string;
  parts: OverlayPart[];
  members: PlacedMember[];
  /** bytes covered */
  size: number;
  /** byte offset -> member index (-1 padding) */
  cover: Int32Array;
}

export type OverlayState = { status: 'none' } | { status: 'loading' } | { status: 'error'; error: string } | { status: 'ok'; overlay: Overlay };

/**
 * The overlay for `type` (one type, or parts joined by '+'); `objectSize` is the size of the
 * object it lies on (an unknown trailing part takes the rest).
 */
export function useOverlay(session: string, type: string | undefined, objectSize: number | null): OverlayState {
  const [st, setSt] = useState<OverlayState>({ status: 'none' });
  useEffect(() => {
    if (!type) {
      setSt({ status: 'none' });
      return;
    }
    let live = true;
    setSt({ status: 'loading' });
    void (async () => {
      const names = compositeNames(type);
      const layouts: (StructLayout | null)[] = [];
      for (const n of names) {
        if (!isTypeName(n)) {
          layouts.push(null);
          break;
        }
        const l = await structLayout(session, n);
        if ('error' in l) {
          if (names.length === 1) {
            if (live) setSt({ status: 'error', error: l.error });
            return;
          }
          layouts.push(null);
          break;
        }
        layouts.push(l);
      }
      const parts = layoutParts(
        names.slice(0, layouts.length),
        layouts.map((l) => (l ? l.size : null)),
        objectSize,
      );
      parts.forEach((p, i) => {
        const l = layouts[i];
        if (l && !p.unknown) {
          p.layout = l;
          p.type = l.name || p.type;
        }
      });
      const members = placeMembers(parts);
      const size = parts.reduce((e, p) => Math.max(e, p.offset + p.size), 0);
      if (live) setSt({ status: 'ok', overlay: { type, parts, members, size, cover: coverMap(members, Math.min(size, 1 << 20)) } });
    })();
    return () => {
      live = false;
    };
  }, [session, type, objectSize]);
  return st;
}
