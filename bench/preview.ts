/**
 * The app's production build served by `vite preview` for the browser benches: built and started on
 * PORT unless something already answers at BASE. Returns the started process (detached: the caller
 * kills its group when done), or null when a server was already running.
 */
import { spawn, type ChildProcess } from 'node:child_process';

async function up(base: string): Promise<boolean> {
  try {
    return (await fetch(base + '/')).ok;
  } catch {
    return false;
  }
}

export async function ensurePreview(base: string, port: number): Promise<ChildProcess | null> {
  if (await up(base)) return null;
  console.log('building and starting vite preview…');
  const p = spawn('sh', ['-c', `npx vite build --logLevel warn && exec npx vite preview --port ${port} --strictPort`], { stdio: 'ignore', detached: true });
  for (let i = 0; i < 240; i++) {
    await new Promise((r) => setTimeout(r, 500));
    if (await up(base)) return p;
  }
  throw new Error('vite preview did not start');
}

/** Stops what ensurePreview started (its whole process group: vite build's shell and the server). */
export function stopPreview(server: ChildProcess | null): void {
  if (!server?.pid) return;
  try {
    process.kill(-server.pid);
  } catch {
    /* already gone */
  }
}
