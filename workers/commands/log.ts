/**
 * `log`: the kernel log as crash's `log` prints it (analysis/printk.ts reads it).
 *
 *   log        [    3.717028] text            (multi-line records indented under the text)
 *   log -t     text only
 *   log -m     [    3.717028] <6>text         (the level, hex, as crash prints it)
 *   log -T     [Sat Nov 21 21:53:46 UTC 2026] text  (boot time + timestamp, crash's -T)
 *   log -c     [    3.717028] [     T1] text  (caller: task id or C<cpu>)
 *   log -d     SUBSYSTEM= and DEVICE= lines of dev_printk records
 *   log -a     the audit records still queued in the kernel (not read by auditd), "type=N text"
 *
 * JSON: [{seq, ts_nsec, level, facility, caller, text, subsystem?, device?}], ts_nsec a number
 * (exact below 2^53 ns, 104 days of uptime; beyond that, within a microsecond).
 */
import { registerCommand, parseFlags, CommandError, type CommandContext } from './registry';
import { auditBacklog } from '../analysis/audit';
import { DumpError, MemoryError } from '../errors';
import { readPrintk, formatLog, callerString, type LogFormat } from '../analysis/printk';
import { systemInfo, kernelSymbols } from './sys';

/** One record of `log --json` (printk's struct printk_info + text). */
export interface LogRecordJson {
  seq: number;
  ts_nsec: number;
  /** syslog level 0..7; null when the record has none */
  level: number | null;
  facility: number | null;
  caller: string | null;
  text: string;
  subsystem?: string;
  device?: string;
  flags?: number;
  /** why the record is damaged or partial */
  problem?: string;
}

registerCommand({
  name: 'log',
  aliases: ['dmesg'],
  summary: 'the kernel log (printk ring buffer), as crash prints it; -a the audit records still queued in the kernel',
  usage: 'log [-t] [-T] [-m] [-c] [-d] [-a] [--json]',
  run(args: string[], ctx: CommandContext) {
    const { flags } = parseFlags(args, { bool: ['-t', '-T', '-m', '-c', '-d', '-a', '--json'] });
    const prog = ctx.prog;
    if (flags.has('-a')) {
      const a = auditBacklog(prog);
      if (!a.supported) throw new CommandError('log: -a option not supported or applicable on this architecture or kernel');
      const lines = a.records.map((r) => `type=${r.type} ${r.text}`);
      if (!a.records.length) lines.push('log: kernel audit log is empty');
      for (const p of a.problems) lines.push(`log: ${p}`);
      return {
        text: lines.join('\n') + '\n',
        json: { records: a.records.map((r) => ({ queue: r.queue, skb: '0x' + r.skb.toString(16), type: r.type, text: r.text })), problems: a.problems },
        problems: a.problems.map((p) => `log: ${p}`),
      };
    }
    const log = readPrintk(prog);
    const f: LogFormat = {
      noTimestamps: flags.has('-t'),
      level: flags.has('-m'),
      caller: flags.has('-c'),
      dict: flags.has('-d'),
    };
    const notes: string[] = [];
    if (flags.has('-T') && !f.noTimestamps) {
      // crash: boot_date = date - uptime (whole seconds)
      const s = systemInfo(prog);
      if (s.crashTime.ok && s.uptime.ok) f.bootEpoch = s.crashTime.value.seconds - s.uptime.value.seconds;
      else notes.push(`log: -T unavailable (${!s.crashTime.ok ? s.crashTime.why : !s.uptime.ok ? s.uptime.why : ''}); showing seconds since boot`);
    }
    if (f.caller) {
      // crash sizes the caller column from pid_max: 6 up to 99999, 7 up to 999999, else 8
      f.callerWidth = 8;
      try {
        const a = kernelSymbols(prog, ['pid_max']).get('pid_max');
        if (a !== undefined) {
          const pidMax = prog.mem.u32(a);
          f.callerWidth = pidMax <= 99999 ? 6 : pidMax <= 999999 ? 7 : 8;
        }
      } catch (e) {
        if (!(e instanceof MemoryError || e instanceof DumpError)) throw e;
      }
    }
    let text = formatLog(log, f);
    if (notes.length) text = notes.join('\n') + '\n' + text;
    const json = log.records.map((r) => {
      const o: LogRecordJson = {
        seq: r.seq,
        ts_nsec: Number(r.tsNsec),
        level: r.level < 0 ? null : r.level,
        facility: r.facility < 0 ? null : r.facility,
        caller: callerString(r.callerId),
        text: r.text,
      };
      if (r.subsystem) o.subsystem = r.subsystem;
      if (r.device) o.device = r.device;
      if (r.flags > 0) o.flags = r.flags;
      if (r.problem) o.problem = r.problem;
      return o;
    });
    // the ring's warnings are in the text already ("log: WARNING: ..."); the JSON carries them too
    return { text: text + '\n', json, problems: log.warnings.map((w) => `log: WARNING: ${w}`) };
  },
});
