import { describe, it, expect } from 'vitest';
import { SHARED_DUMP_NAMES, sharedDump } from '../testing/dumps';
import { NodeFileSource } from '../source/node';
import { openProgram } from '../engine';
import { runCommand } from './registry';
import './log';

describe.each(SHARED_DUMP_NAMES.map((n) => [n]))('log command on %s', (name) => {
  const d = sharedDump(name);
  it.skipIf(!d)('text equals crash log; -t, -m and --json shapes', () => {
    const prog = openProgram(new NodeFileSource(d!.file));
    const r = runCommand({ prog }, 'log');
    expect(r.text).toBe(d!.oracle('log.txt'));
    const t = runCommand({ prog }, 'log -t').text.split('\n');
    expect(t[0]).toMatch(/^Linux version /);
    const m = runCommand({ prog }, 'log -m').text.split('\n');
    expect(m[0]).toMatch(/^\[    0\.000000\] <5>Linux version /);
    const json = r.json as Array<Record<string, unknown>>;
    const drgn = d!.hasOracle('drgn.json') ? d!.oracleJson<{ printk: Array<{ seq: number; text: string }> }>('drgn.json').printk : null;
    if (drgn) expect(json.length).toBe(drgn.length);
    expect(json[0]).toMatchObject({ seq: 0, ts_nsec: 0, level: 5, facility: 0, caller: 'T0' });
    const T = runCommand({ prog }, 'log -T').text.split('\n');
    expect(T[0]).toMatch(/^\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d UTC \d{4}\] Linux version/);
    const c = runCommand({ prog }, 'log -c').text.split('\n');
    expect(c[0]).toMatch(/^\[    0\.000000\] \[ +T0\] Linux version/);
  });
});
