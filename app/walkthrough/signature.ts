/**
 * Does a dump show a known incident? A walkthrough's signature (types.ts) against the dump's own
 * oops report and log. Pure: the caller runs `oops --json` and `log` on the dump.
 */
import type { OopsJson, OopsReportJson } from '../engine';
import type { Signature } from './types';

export interface SignatureMatch {
  matched: boolean;
  /** what matched, or the first thing that did not */
  why: string[];
}

/** The report that ended in the panic, else the first. */
export function panicReport(oops: OopsJson | undefined): OopsReportJson | undefined {
  if (!oops?.found) return undefined;
  return oops.reports.find((r) => r.panic) ?? oops.reports[0];
}

export function matchSignature(sig: Signature | undefined, oops: OopsJson | undefined, log: string | undefined): SignatureMatch {
  if (!sig || (!sig.oops && !sig.log?.length)) return { matched: false, why: ['no signature'] };
  const why: string[] = [];
  if (sig.oops) {
    const rep = panicReport(oops);
    if (!rep) return { matched: false, why: ['no oops in the log'] };
    const parts: [string, string | undefined, string | undefined][] = [
      ['headline', sig.oops.headline, rep.headline],
      ['RIP', sig.oops.rip, rep.rip?.symbol],
      ['CR2', sig.oops.cr2, rep.control?.CR2 ?? rep.faultAddress],
    ];
    for (const [name, re, val] of parts) {
      if (re === undefined) continue;
      if (val === undefined || !new RegExp(re).test(val)) return { matched: false, why: [`${name} ${val ?? 'unknown'} does not match /${re}/`] };
      why.push(`${name} ${val}`);
    }
  }
  for (const re of sig.log ?? []) {
    if (log === undefined) return { matched: false, why: ['the log is not read'] };
    const m = new RegExp(re, 'm').exec(log);
    if (!m) return { matched: false, why: [`no log line matches /${re}/`] };
    why.push(`log: ${m[0]}`);
  }
  return { matched: true, why };
}
