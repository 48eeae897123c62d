/**
 * Network devices (net/core/dev.c, net/ipv4/devinet.c, net/ipv6/addrconf.c): the net_devices of a
 * task's network namespace (net->dev_base_head) with their IPv4 (in_device->ifa_list) and IPv6
 * (inet6_dev->addr_list) addresses, as crash's `net` lists them.
 */
import type { Program } from '../kernel/program';
import { MemoryError } from '../errors';
import { walkList, describeStop } from './list';

export interface NetDevice {
  address: bigint;
  name: string;
  ipv4: string[];
  ipv6: string[];
}

/** inet_ntop(AF_INET6): the longest run of two or more zero groups as "::". */
export function ipv6Text(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((b[i] << 8) | b[i + 1]);
  // IPv4-mapped/compatible forms are not needed for crash's lo/eth listings; plain groups
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hx = (x: number) => x.toString(16);
  if (best < 0) return g.map(hx).join(':');
  return g.slice(0, best).map(hx).join(':') + '::' + g.slice(best + bestLen).map(hx).join(':');
}

export function netDevices(prog: Program, task: bigint): { devices: NetDevice[]; problems: string[] } {
  const problems: string[] = [];
  const t = prog.obj('struct task_struct', task);
  const nsproxy = t.member('nsproxy').ptr();
  const net = nsproxy ? prog.obj('struct nsproxy', nsproxy).member('net_ns').ptr() : prog.symbolAddress('init_net')!;
  const head = prog.obj('struct net', net).member('dev_base_head').address;
  const ndT = prog.type('struct net_device');
  const w = walkList(prog, head, { nextOffset: prog.offsetof(ndT, 'dev_list'), headIsAnchor: true, limit: 100000 });
  const why = describeStop(w);
  if (why) problems.push(`dev_base_head: ${why}`);
  const devices: NetDevice[] = [];
  for (const d of w.entries) {
    try {
      const o = prog.obj(ndT, d);
      const name = o.member('name').string(16);
      const ipv4: string[] = [];
      const ip = o.member('ip_ptr').ptr();
      if (ip) {
        let ifa = prog.obj('struct in_device', ip).member('ifa_list').ptr();
        for (let n = 0; ifa && n < 4096; n++) {
          const a = prog.obj('struct in_ifaddr', ifa);
          const b = prog.mem.read(a.member('ifa_address').address, 4);
          ipv4.push(`${b[0]}.${b[1]}.${b[2]}.${b[3]}`);
          ifa = a.member('ifa_next').ptr();
        }
      }
      const ipv6: string[] = [];
      const ip6 = o.member('ip6_ptr').ptr();
      if (ip6) {
        const ah = prog.obj('struct inet6_dev', ip6).member('addr_list').address;
        const aw = walkList(prog, ah, { nextOffset: prog.offsetof('struct inet6_ifaddr', 'if_list'), headIsAnchor: true, limit: 4096 });
        for (const a of aw.entries) ipv6.push(ipv6Text(prog.mem.read(prog.obj('struct inet6_ifaddr', a).member('addr').address, 16)));
      }
      devices.push({ address: d, name, ipv4, ipv6 });
    } catch (e) {
      if (!(e instanceof MemoryError)) throw e;
      problems.push(`net_device ${d.toString(16)}: ${e.message}`);
    }
  }
  return { devices, problems };
}
