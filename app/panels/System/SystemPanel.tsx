/**
 * System: the whole-machine overview after `bt` — memory usage (`kmem -i`), loaded modules with
 * their taint flags (`mod`, `mod -t`, `sys -t`), each CPU's run queue (`runq`), interrupts in use
 * (`irq -u`) and pending timers (`timer`), each as crash prints it.
 *
 * URL: `#/<fp>/system[/<section>]` (memory, modules, runq, irq, timer).
 */
import { useApp, type Tab } from '../../store';
import { CommandGate, TextOutput, useCommand } from '../common';

const SECTIONS: Array<{ id: string; title: string; cmds: string[] }> = [
  { id: 'memory', title: 'Memory (kmem -i)', cmds: ['kmem -i'] },
  { id: 'modules', title: 'Modules and taint (mod, mod -t, sys -t)', cmds: ['sys -t', 'mod', 'mod -t'] },
  { id: 'runq', title: 'Run queues (runq)', cmds: ['runq'] },
  { id: 'irq', title: 'Interrupts in use (irq -u)', cmds: ['irq -u'] },
  { id: 'timer', title: 'Timers (timer)', cmds: ['timer'] },
];

export function SystemPanel({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const current = SECTIONS.find((s) => s.id === tab.view.arg) ?? null;
  const shown = current ? [current] : SECTIONS.slice(0, 3);
  return (
    <div className="panel system" data-testid="system-panel">
      <div className="toolbar">
        <button className={!current ? 'on' : ''} onClick={() => navigate({ panel: 'system', params: {} })}>
          overview
        </button>
        {SECTIONS.map((s) => (
          <button key={s.id} className={current?.id === s.id ? 'on' : ''} onClick={() => navigate({ panel: 'system', arg: s.id, params: {} })}>
            {s.id}
          </button>
        ))}
      </div>
      <div className="scroll">
        {shown.map((s) => (
          <section key={s.id} data-testid={`system-${s.id}`}>
            <h3 style={{ margin: '8px 0 4px' }}>{s.title}</h3>
            {s.cmds.map((c) => (
              <Cmd key={c} tab={tab} line={c} />
            ))}
          </section>
        ))}
      </div>
    </div>
  );
}

function Cmd({ tab, line }: { tab: Tab; line: string }) {
  const st = useCommand(tab, line);
  return (
    <CommandGate tab={tab} state={st} what={line}>
      {(r) => <TextOutput text={r.text} />}
    </CommandGate>
  );
}
