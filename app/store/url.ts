/**
 * Keeps the URL and the store in step: a view change pushes a history entry (or replaces it for
 * small changes such as typing in a search box); back/forward and pasted links apply the URL's
 * permalink to the store. `?src=` opens a dump by URL on start.
 */
import { formatHash, parseHash, srcParam } from '../permalink';
import { stateHash, useApp } from './index';

export function startUrlSync(): () => void {
  const apply = () => useApp.getState().applyPermalink(parseHash(window.location.hash));
  apply();

  const unsub = useApp.subscribe((s) => {
    const want = stateHash(s, formatHash);
    const cur = window.location.hash === '#' ? '' : window.location.hash;
    if (want === cur) return;
    const url = window.location.pathname + window.location.search + want;
    if (s.replaceUrl) window.history.replaceState(null, '', url);
    else window.history.pushState(null, '', url);
  });

  // back/forward (popstate) and a hash typed or pasted into the address bar (hashchange)
  const onNav = () => {
    const cur = window.location.hash === '#' ? '' : window.location.hash;
    if (stateHash(useApp.getState(), formatHash) !== cur) apply();
  };
  window.addEventListener('popstate', onNav);
  window.addEventListener('hashchange', onNav);

  const src = srcParam(window.location.search);
  if (src) void useApp.getState().openUrl(src);

  return () => {
    unsub();
    window.removeEventListener('popstate', onNav);
    window.removeEventListener('hashchange', onNav);
  };
}
