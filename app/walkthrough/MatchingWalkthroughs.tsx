/**
 * On a dump's summary: which known walkthroughs match it (their incident signature against this
 * dump's oops and log, signature.ts), with a button that plays one on this very dump — its checks
 * evaluated here, not on the walkthrough's bundled sample.
 */
import { useEffect } from 'react';
import type { Tab } from '../store';
import { useCommand } from '../panels/common';
import { resultJson } from '../results';
import { usePlayer } from './store';
import { matchSignature } from './signature';

export function MatchingWalkthroughs({ tab }: { tab: Tab }) {
  const index = usePlayer((s) => s.index);
  const loadIndex = usePlayer((s) => s.loadIndex);
  const playOn = usePlayer((s) => s.playOn);
  useEffect(() => {
    if (!index) void loadIndex();
  }, [index, loadIndex]);
  const withSig = index?.filter((e) => e.signature) ?? [];
  const needLog = withSig.some((e) => e.signature?.log?.length);
  const oops = useCommand(tab, withSig.length ? 'oops -n --json' : null);
  const log = useCommand(tab, needLog ? 'log' : null);
  if (!index || !withSig.length) return null;
  if (!oops || oops.status === 'running' || (needLog && (!log || log.status === 'running'))) {
    return <div className="dim small">matching known walkthroughs…</div>;
  }
  const oj = resultJson(oops.result, 'oops');
  const logText = log?.result?.ok ? log.result.text : undefined;
  const matches = withSig
    .map((e) => ({ e, m: matchSignature(e.signature, oj, logText) }))
    .filter((x) => x.m.matched);
  return (
    <div className="card wt-matches" data-testid="matching-walkthroughs">
      {matches.length === 0 ? (
        <span className="dim">No known walkthrough matches this dump's oops ({withSig.length} signatures checked).</span>
      ) : (
        <>
          <b>Known incident{matches.length > 1 ? 's' : ''} matching this dump:</b>
          <ul>
            {matches.map(({ e, m }) => (
              <li key={e.id} data-testid={`match-${e.id}`}>
                {e.title} <span className="dim small">({m.why.join(', ')})</span>{' '}
                <button className="primary" onClick={() => void playOn(e.id, tab.session)} data-testid={`play-${e.id}`}>
                  play on this dump
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
