/**
 * Backtrace: `bt` of the panic task, or of the task/pid in the URL (`#/<fp>/bt/180`), or all
 * CPUs' active tasks (`bt -a`). Text as crash prints it, with addresses and symbols as links.
 * Next: frames from `bt --json` as a table with exception frames and registers expanded.
 */
import { useApp, type Tab } from '../../store';
import { CommandGate, TextOutput, useCommand } from '../common';

export function BacktracePanel({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const arg = tab.view.arg;
  const line = arg === 'all' ? 'bt -a' : arg ? `bt ${arg}` : 'bt';
  const st = useCommand(tab, line);
  return (
    <div className="panel bt">
      <div className="toolbar">
        <button className={!arg ? 'on' : ''} onClick={() => navigate({ panel: 'bt', params: {} })}>
          panic task
        </button>
        <button className={arg === 'all' ? 'on' : ''} onClick={() => navigate({ panel: 'bt', arg: 'all', params: {} })}>
          every CPU (bt -a)
        </button>
        <span className="dim">
          <code>{line}</code>
        </span>
      </div>
      <div className="scroll">
        <CommandGate tab={tab} state={st} what="Backtrace (bt)">
          {(r) => <TextOutput text={r.text} />}
        </CommandGate>
      </div>
    </div>
  );
}
