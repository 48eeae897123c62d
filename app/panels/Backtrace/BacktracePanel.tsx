/**
 * Backtraces: the task list (`ps --json`, the tasks on CPUs first, the panic task selected) and
 * the chosen task's frames (`bt <pid> --json`) as a table; an exception frame shows its registers
 * (kernel addresses open the hex view). A frame opens its disassembly (`dis <symbol>`, the frame's
 * pc marked) below the table. With a vmlinux's DWARF, the chosen frame's parameters and locals
 * (`bt <pid> --locals --json`) come first: values, pointers as links to the hex view (typed when
 * they point at a struct), "optimized out" plainly, struct values expandable (`struct T <addr>`).
 *
 * URL: `#/<fp>/bt[/<pid|task>]?frame=<index>`; `#/<fp>/bt/all` is `bt -a` as crash prints it.
 */
import type { BtFrameJson, BtTaskJson, PsRow } from '../../engine';
import { resultJson } from '../../results';
import { useEffect, useMemo, useRef, useState, type JSX } from 'react';
import { useApp, type Tab } from '../../store';
import { CommandGate, LinkedText, TextOutput, useCommand } from '../common';
import { isPointerText } from '../../pointers';
import { activeTab } from '../../store';


type Frame = BtFrameJson;
type BtTask = BtTaskJson;

/** "net/core/skbuff.c:901" from a build path */
function shortSource(file: string | null, line: number): string {
  return `${(file ?? '??').replace(/^.*?\/build_[^/]+\//, '')}:${line}`;
}

export function BacktracePanel({ tab }: { tab: Tab }) {
  const navigate = useApp((s) => s.navigate);
  const arg = tab.view.arg;
  const ps = useCommand(tab, 'ps --json');
  const panic = useCommand(tab, 'bt --json');
  const panicTask = resultJson(panic?.result, 'bt')?.[0];
  const [filter, setFilter] = useState('');

  const tasks = useMemo(() => {
    const rows = resultJson(ps?.result, 'ps') ?? [];
    const act = rows.filter((t) => t.active).sort((a, b) => a.cpu - b.cpu);
    const rest = rows.filter((t) => !t.active);
    return { act, rest, all: rows };
  }, [ps?.result]);

  const selected = arg && arg !== 'all' ? arg : panicTask ? String(panicTask.pid === 0 ? panicTask.task : panicTask.pid) : undefined;
  const isSel = (t: PsRow) =>
    selected !== undefined && (String(t.pid) === selected || t.task === selected) && (t.pid !== 0 || t.task === selected || (panicTask?.task === t.task && !arg));

  const pick = (t: PsRow) => navigate({ panel: 'bt', arg: t.pid === 0 ? t.task : String(t.pid), params: {} });
  const f = filter.trim().toLowerCase();
  const match = (t: PsRow) => !f || t.comm.toLowerCase().includes(f) || String(t.pid) === f || t.task.includes(f);

  return (
    <div className="panel bt">
      <div className="toolbar">
        <button className={!arg ? 'on' : ''} onClick={() => navigate({ panel: 'bt', params: {} })}>
          panic task
        </button>
        <button className={arg === 'all' ? 'on' : ''} onClick={() => navigate({ panel: 'bt', arg: 'all', params: {} })}>
          every CPU (bt -a)
        </button>
        <input
          className="search"
          type="search"
          placeholder="filter tasks: comm, pid, task"
          aria-label="filter tasks"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
        />
      </div>
      <div className="btbody">
        <div className="tasklist" data-testid="tasks">
          {!ps || ps.status === 'running' ? (
            <div className="state loading">
              <span className="spinner" /> ps…
            </div>
          ) : !ps.result?.ok ? (
            <div className="state failed">
              ps: <code>{ps.result?.error}</code>
            </div>
          ) : (
            <>
              <div className="tl-h">on CPUs</div>
              {tasks.act.filter(match).map((t) => (
                <TaskRow key={t.task} t={t} on={isSel(t)} panic={panicTask?.task === t.task} onClick={() => pick(t)} />
              ))}
              <div className="tl-h">
                other tasks <span className="dim">({tasks.rest.length})</span>
              </div>
              {tasks.rest.filter(match).slice(0, 3000).map((t) => (
                <TaskRow key={t.task} t={t} on={isSel(t)} panic={panicTask?.task === t.task} onClick={() => pick(t)} />
              ))}
            </>
          )}
        </div>
        <div className="btmain">
          {arg === 'all' ? <AllCpus tab={tab} /> : selected ? <TaskTrace tab={tab} which={selected} /> : (
            <CommandGate tab={tab} state={panic} what="Backtrace of the panic task (bt)">
              {() => <div className="state empty">No panic task: pick a task on the left.</div>}
            </CommandGate>
          )}
        </div>
      </div>
    </div>
  );
}

function TaskRow({ t, on, panic, onClick }: { t: PsRow; on: boolean; panic: boolean; onClick: () => void }) {
  return (
    <div className={'task' + (on ? ' on' : '') + (panic ? ' panic' : '')} onClick={onClick} role="button" title={t.task}>
      <span className="pid">{t.pid}</span>
      <span className="cpu">{t.cpu}</span>
      <span className="st">{t.state}</span>
      <span className="comm">{t.comm}</span>
      {panic && <span className="badge">panic</span>}
    </div>
  );
}

function AllCpus({ tab }: { tab: Tab }) {
  const st = useCommand(tab, 'bt -a');
  return (
    <div className="scroll">
      <CommandGate tab={tab} state={st} what="Backtraces of every CPU (bt -a)">
        {(r) => <TextOutput text={r.text} />}
      </CommandGate>
    </div>
  );
}

function TaskTrace({ tab, which }: { tab: Tab; which: string }) {
  const navigate = useApp((s) => s.navigate);
  const setParams = useApp((s) => s.setParams);
  const st = useCommand(tab, `bt ${which} --json`);
  const frameSel = tab.view.params.frame !== undefined ? Number(tab.view.params.frame) : null;
  const openMem = (a: string) => navigate({ panel: 'mem', arg: a, params: {} });
  return (
    <CommandGate tab={tab} state={st} what={`Backtrace of ${which} (bt)`}>
      {(r) => {
        const t: BtTask | undefined = resultJson(r, 'bt')?.[0];
        if (!t) return <TextOutput text={r.text} />;
        // first shown: the kernel exception frame (where it faulted), else the first kernel
        // frame; never the user-mode registers of the syscall entry (no kernel code there)
        const exc = t.frames.findIndex((f) => f.exception && !f.user && f.symbol);
        const firstKernel = t.frames.findIndex((f) => !f.user && f.pc && f.symbol);
        const sel = frameSel ?? (exc >= 0 ? exc : firstKernel >= 0 ? firstKernel : t.frames.length ? 0 : null);
        const f = sel !== null ? t.frames[sel] : undefined;
        // a vmlinux with DWARF is open: bt gave every kernel frame its source (and inlined calls)
        const hasDwarf = t.frames.some((x) => x.inlined !== undefined);
        return (
          <div className="trace">
            <div className="trace-h">
              PID <b>{t.pid}</b> · <b>{t.comm}</b> · CPU {t.cpu} · task <LinkedText text={t.task} />
              <details className="raw inline">
                <summary>as crash prints it</summary>
                <TextOutput text={r.text} />
              </details>
            </div>
            <div className="frames-wrap">
              <table className="grid frames" data-testid="frames">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>sp</th>
                    <th>pc</th>
                    <th>function</th>
                    <th>stack</th>
                  </tr>
                </thead>
                <tbody>
                  {t.frames.length === 0 && (
                    <tr>
                      <td colSpan={5} className="dim">
                        no frames{t.stopped ? `: ${t.stopped}` : ''}
                      </td>
                    </tr>
                  )}
                  {t.frames.map((fr, i) => (
                    <FrameRows key={i} fr={fr} on={i === sel} onPick={() => setParams({ frame: String(i) })} openMem={openMem} />
                  ))}
                </tbody>
              </table>
              {r.text.includes('unwind stopped') && <div className="warn small">{r.text.split('\n').find((l) => l.includes('unwind stopped'))}</div>}
            </div>
            {f && sel !== null && hasDwarf && !f.user && f.pc && <FrameVariables tab={tab} which={which} index={sel} frame={f} />}
            {f && <Disassembly tab={tab} frame={f} />}
          </div>
        );
      }}
    </CommandGate>
  );
}

function FrameRows({ fr, on, onPick, openMem }: { fr: Frame; on: boolean; onPick: () => void; openMem: (a: string) => void }) {
  const layout = useApp((s) => activeTab(s)?.layout);
  const fn = fr.symbol ? `${fr.symbol}+0x${(fr.offset ?? 0).toString(16)}` : fr.user ? 'user-mode registers (syscall entry)' : (fr.pc ?? fr.stopped ?? '');
  return (
    <>
      {(fr.inlined ?? []).map((x, k) => (
        <tr key={'i' + k} className={'frame inlined' + (on ? ' on' : '')} onClick={onPick} data-testid="inlined-frame">
          <td className="n dim">inl</td>
          <td />
          <td />
          <td>
            <b>{x.function ?? '??'}</b> <span className="dim">(inlined) {shortSource(x.file, x.line)}</span>
          </td>
          <td />
        </tr>
      ))}
      <tr className={'frame' + (on ? ' on' : '') + (fr.exception ? ' exc' : '')} onClick={onPick}>
        {/* an exception frame is the interrupted code under the frame before it: crash prints
            it without a number of its own ("[exception RIP: ...]"), so does this table */}
        <td className="n" title={fr.exception ? `exception frame (pt_regs) under #${fr.level}` : undefined}>
          {fr.exception ? <span className="dim">{fr.user ? 'user' : 'exc'}</span> : `#${fr.level}`}
        </td>
        <td>
          {fr.sp && (
            <a href="#" className="addr" onClick={(e) => { e.preventDefault(); e.stopPropagation(); openMem(fr.sp!); }} title="open the stack here">
              {fr.sp}
            </a>
          )}
        </td>
        <td>{fr.pc}</td>
        <td>
          <b>{fn}</b>
          {fr.module ? <span className="dim"> [{fr.module}]</span> : null}
          {fr.exception && <span className="badge">exception</span>}
          {fr.source && <span className="dim" data-testid="frame-source"> {shortSource(fr.source.file, fr.source.line)}</span>}
        </td>
        <td className="dim">{fr.stack ?? ''}</td>
      </tr>
      {fr.exception && (
        <tr className="regs-row">
          <td />
          <td colSpan={4}>
            <div className="regs" data-testid="registers">
              {Object.entries(fr.exception).map(([k, v]) => (
                <span key={k} className="reg">
                  <span className="rk">{k}</span>{' '}
                  {isPointerText(v, layout) ? (
                    <a href="#" className="addr" onClick={(e) => { e.preventDefault(); e.stopPropagation(); openMem(v); }} title={`open ${v} in the hex view`}>
                      {v.replace(/^0x/, '').padStart(16, '0')}
                    </a>
                  ) : (
                    <span className="rv">{v.replace(/^0x/, '').padStart(16, '0')}</span>
                  )}
                </span>
              ))}
            </div>
          </td>
        </tr>
      )}
    </>
  );
}

function Disassembly({ tab, frame }: { tab: Tab; frame: Frame }) {
  if (frame.user || !frame.pc) {
    return (
      <div className="dis card dim" data-testid="dis">
        {frame.user ? 'User-mode registers at the syscall entry: no kernel code to disassemble.' : 'No pc in this frame.'}
      </div>
    );
  }
  return <KernelDisassembly tab={tab} frame={frame} pc={frame.pc} />;
}

function KernelDisassembly({ tab, frame, pc: pcText }: { tab: Tab; frame: Frame; pc: string }) {
  const navigate = useApp((s) => s.navigate);
  const line = frame.symbol ? `dis ${frame.symbol}` : `dis ${pcText} 32`;
  const st = useCommand(tab, line);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    box.current?.querySelector('.insn.pc')?.scrollIntoView({ block: 'center' });
  }, [st?.status, pcText]);
  return (
    <div className="dis" data-testid="dis" ref={box}>
      <div className="dis-h">
        <code>{line}</code> <span className="dim">pc {pcText}</span>
      </div>
      <CommandGate tab={tab} state={st} what={`Disassembly of ${frame.symbol ?? frame.pc}`}>
        {(r) => {
          const j = resultJson(r, 'dis');
          if (!j?.instructions) return <TextOutput text={r.text} />;
          const pc = BigInt(pcText);
          return (
            <pre className="output dislist">
              {j.instructions.map((i) => {
                const here = BigInt(i.address) === pc;
                return (
                  <div key={i.address} className={'insn' + (here ? ' pc' : '')}>
                    <span className="dim">
                      {i.address} {'<'}
                      {i.symbol ?? '?'}
                      {i.offset ? `+${i.offset}` : ''}
                      {'>'}:{' '}
                    </span>
                    {i.target ? (
                      <>
                        {i.text.split(i.target)[0]}
                        <a href="#" className="addr" onClick={(e) => { e.preventDefault(); navigate({ panel: 'mem', arg: i.target!, params: {} }); }}>
                          {i.target}
                        </a>
                        {i.text.split(i.target).slice(1).join(i.target)}
                      </>
                    ) : (
                      i.text
                    )}
                    {here && <span className="pcmark">  ◀ pc</span>}
                  </div>
                );
              })}
            </pre>
          );
        }}
      </CommandGate>
    </div>
  );
}

interface FrameVar {
  name: string;
  kind: 'parameter' | 'variable';
  type: string;
  size: number;
  value?: string;
  address?: string;
  register?: string;
  unavailable?: string;
}
interface FrameScope {
  function: string | null;
  inlined: boolean;
  variables: FrameVar[];
}

/** "struct sk_buff" of "struct sk_buff *" (one level of pointer to a struct/union), else null */
function pointee(type: string): string | null {
  const m = /^(?:const\s+|volatile\s+)*((?:struct|union)\s+[A-Za-z_]\w*)\s*(?:const\s*)?\*$/.exec(type.trim());
  return m ? m[1] : null;
}
function isComposite(type: string): boolean {
  return /^(?:const\s+|volatile\s+)*(?:struct|union)\s+[A-Za-z_]\w*$/.test(type.trim());
}
/** the mem view's type param: "sk_buff" for a struct, "union X" kept */
function overlayType(t: string): string {
  return t.replace(/^(?:const\s+|volatile\s+)*/, '').replace(/^struct\s+/, '');
}

/**
 * Parameters and locals of the chosen frame, innermost inlined call first (as `bt --locals`).
 * `index` is the frame's place in `bt --json`, which `bt --locals --json` lists the same way.
 */
function FrameVariables({ tab, which, index, frame }: { tab: Tab; which: string; index: number; frame: Frame }) {
  const st = useCommand(tab, `bt ${which} --locals --json`);
  return (
    <div className="vars card" data-testid="frame-vars">
      <div className="vars-h">
        Variables of <b>{frame.symbol ?? frame.pc}</b> <span className="dim">(DWARF locations, registers recovered by the unwinder)</span>
      </div>
      <CommandGate tab={tab} state={st} what={`Variables of ${frame.symbol ?? frame.pc} (bt --locals)`}>
        {(r) => {
          const t: BtTask | undefined = resultJson(r, 'bt')?.[0];
          const fr = t?.frames[index];
          if (!fr || fr.pc !== frame.pc) return <div className="dim">This frame is not in bt --locals (the task's stack changed?).</div>;
          const scopes = (fr.locals ?? null) as FrameScope[] | null;
          if (!scopes) return <div className="dim">No DWARF covers {frame.pc}: no variables.</div>;
          if (!scopes.some((s) => s.variables.length)) return <div className="dim">No parameters or locals at this pc.</div>;
          return (
            <table className="grid varlist">
              <tbody>
                {scopes.filter((s) => s.variables.length).map((s, k) => (
                  <ScopeRows key={k} tab={tab} scope={s} />
                ))}
              </tbody>
            </table>
          );
        }}
      </CommandGate>
    </div>
  );
}

function ScopeRows({ tab, scope }: { tab: Tab; scope: FrameScope }) {
  return (
    <>
      <tr className="scope-h" data-testid="var-scope">
        <td colSpan={4}>
          <b>{scope.function ?? '??'}</b>
          {scope.inlined && <span className="dim"> (inlined)</span>}
        </td>
      </tr>
      {scope.variables.map((v, i) => (
        <VarRow key={i} tab={tab} v={v} fn={scope.function ?? '??'} />
      ))}
    </>
  );
}

function VarRow({ tab, v, fn }: { tab: Tab; v: FrameVar; fn: string }) {
  const navigate = useApp((s) => s.navigate);
  const layout = useApp((s) => activeTab(s)?.layout);
  const [open, setOpen] = useState(false);
  const target = pointee(v.type);
  // what can be expanded as a typed object: a struct pointer's target, a struct in memory
  const object =
    target && v.value && isPointerText(v.value, layout)
      ? { type: target, address: v.value }
      : isComposite(v.type) && v.address
        ? { type: v.type.replace(/^(?:const\s+|volatile\s+)*/, ''), address: v.address }
        : null;
  const mem = (a: string, type?: string) => navigate({ panel: 'mem', arg: a, params: type ? { type: overlayType(type) } : {} });
  let value: JSX.Element;
  if (v.unavailable) value = <span className="unavail">{v.unavailable}</span>;
  else if (v.value !== undefined)
    value = isPointerText(v.value, layout) ? (
      <a href="#" className="addr" onClick={(e) => { e.preventDefault(); mem(v.value!, target ?? undefined); }} title={`open ${v.value} in the hex view${target ? ` as ${target}` : ''}`}>
        {v.value}
      </a>
    ) : (
      <span className="val">{v.value}</span>
    );
  else if (v.address !== undefined)
    value = (
      <span>
        <span className="dim">at </span>
        <a href="#" className="addr" onClick={(e) => { e.preventDefault(); mem(v.address!, isComposite(v.type) ? v.type : undefined); }} title={`open ${v.address} in the hex view`}>
          {v.address}
        </a>
      </span>
    );
  else value = <span className="dim">?</span>;
  return (
    <>
      <tr className="var" data-testid="frame-var" data-fn={fn} data-name={v.name}>
        <td className="dim kind">{v.kind === 'parameter' ? 'param' : 'local'}</td>
        <td className="type">{v.type}</td>
        <td className="name">
          {object ? (
            <button type="button" className="expand" aria-expanded={open} onClick={() => setOpen(!open)} title={`show ${object.type} at ${object.address}`}>
              {open ? '▾' : '▸'}
            </button>
          ) : null}{' '}
          {v.name}
        </td>
        <td className="value">
          <span data-testid="var-value">{value}</span>
          {v.register && !v.unavailable && <span className="dim"> ({v.register})</span>}
        </td>
      </tr>
      {open && object && (
        <tr className="var-object">
          <td />
          <td colSpan={3}>
            <TypedObject tab={tab} type={object.type} address={object.address} />
          </td>
        </tr>
      )}
    </>
  );
}

/** A struct value as `struct T <addr>` prints it (addresses in it are links). */
function TypedObject({ tab, type, address }: { tab: Tab; type: string; address: string }) {
  const line = `${/^union\s/.test(type) ? 'union' : 'struct'} ${overlayType(type).replace(/^union\s+/, '')} ${address}`;
  const st = useCommand(tab, line);
  return (
    <div className="typed-object" data-testid="typed-object">
      <CommandGate tab={tab} state={st} what={line}>
        {(r) => <TextOutput text={r.text} />}
      </CommandGate>
    </div>
  );
}
