/**
 * Mounts the walkthrough dock in a React root of its own beside the app's (it shares the app's
 * zustand store, so it drives the same tabs and panels). Loaded by app/panels/index.ts; moving it
 * into App.tsx later is one line: render <WalkthroughDock /> inside .app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { WalkthroughDock } from './WalkthroughDock';

if (typeof document !== 'undefined' && !document.getElementById('walkthrough-root')) {
  const el = document.createElement('div');
  el.id = 'walkthrough-root';
  document.body.appendChild(el);
  createRoot(el).render(
    <StrictMode>
      <WalkthroughDock />
    </StrictMode>,
  );
}
