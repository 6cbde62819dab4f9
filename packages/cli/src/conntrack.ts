/**
 * `conntrack -L | -D | -F` (conntrack-tools v1.4.7) in the lab shell, over the namespace's connection tracking
 * entries (core's ConntrackEntry: the flows the namespace translated). Listings and errors are printed as the
 * tool printed them in namespaces (scripts/conntrack-formats.sh → src/__fixtures__/conntrack-formats.txt);
 * `-D` and `-F` are the model's `conntrack.delete` action, a change undo takes back.
 */
import { ctLive, ctMatches, formatCidr, formatIpv4, getNs, type Action, type Cidr, type ConntrackEntry, type ConntrackFilter, type Ipv4, type NsId } from '@podnet/core';
import { err, ok, type Ctx, type Output } from './types.js';

const V = 'conntrack v1.4.7 (conntrack-tools)';
const TRY = "Try `conntrack -h' or 'conntrack --help' for more information.";
/** A bad command line (exit_error PARAMETER_PROBLEM): exit status 2. */
const usage = (msg: string): Output => err(`${V}: ${msg}\n${TRY}`, 2);
/** Without CAP_NET_ADMIN ctnetlink refuses (measured with setpriv, `conntrack -L`). */
const DENIED = `${V}: Operation failed: sorry, you must be root or get CAP_NET_ADMIN capability to do this`;
const NOT_MODELLED = 'podnet models conntrack -L, -D, -F and -C, with -p, -s, -d, --src-nat/-n, --dst-nat/-g and -o extended';

/** What `conntrack` prints without a command (measured, exit status 0). */
const HELP = `Command line interface for the connection tracking system. Version 1.4.7
Usage: conntrack [commands] [options]

Commands:
  -L [table] [options]\t\tList conntrack or expectation table
  -G [table] parameters\t\tGet conntrack or expectation
  -D [table] parameters\t\tDelete conntrack or expectation
  -I [table] parameters\t\tCreate a conntrack or expectation
  -U [table] parameters\t\tUpdate a conntrack
  -E [table] [options]\t\tShow events
  -F [table]\t\t\tFlush table
  -C [table]\t\t\tShow counter
  -S\t\t\t\tShow statistics

Tables: conntrack, expect, dying, unconfirmed

Conntrack parameters and options:
  -n, --src-nat ip\t\t\tsource NAT ip
  -g, --dst-nat ip\t\t\tdestination NAT ip
  -j, --any-nat ip\t\t\tsource or destination NAT ip
  -m, --mark mark\t\t\tSet mark
  -c, --secmark secmark\t\t\tSet selinux secmark
  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY
  -z, --zero \t\t\t\tZero counters while listing
  -o, --output type[,...]\t\tOutput format, eg. xml
  -l, --label label[,...]\t\tconntrack labels

Expectation parameters and options:
  --tuple-src ip\tSource address in expect tuple
  --tuple-dst ip\tDestination address in expect tuple

Updating parameters and options:
  --label-add label\tAdd label
  --label-del label\tDelete label

Common parameters and options:
  -s, --src, --orig-src ip\t\tSource address from original direction
  -d, --dst, --orig-dst ip\t\tDestination address from original direction
  -r, --reply-src ip\t\tSource addres from reply direction
  -q, --reply-dst ip\t\tDestination address from reply direction
  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'
  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'
  -t, --timeout timeout\t\tSet timeout
  -u, --status status\t\tSet status, eg. ASSURED
  -w, --zone value\t\tSet conntrack zone
  --orig-zone value\t\tSet zone for original direction
  --reply-zone value\t\tSet zone for reply direction
  -b, --buffer-size\t\tNetlink socket buffer size
  --mask-src ip\t\t\tSource mask address
  --mask-dst ip\t\t\tDestination mask address

`;

const COMMANDS: Readonly<Record<string, 'L' | 'D' | 'F' | 'C'>> = { '-L': 'L', '--dump': 'L', '-D': 'D', '--delete': 'D', '-F': 'F', '--flush': 'F', '-C': 'C', '--count': 'C' };
/** conntrack's other commands: known to the tool, not modelled here. */
const OTHER_COMMANDS = ['-G', '--get', '-I', '--create', '-U', '--update', '-E', '--event', '-S', '--stats', '-A', '--add', '-R', '--load-file'];
/** Options with an argument podnet models, by the name getopt gives them. */
const WITH_ARG: Readonly<Record<string, 'p' | 's' | 'd' | 'o'>> = { '-p': 'p', '--protonum': 'p', '-s': 's', '--src': 's', '--orig-src': 's', '-d': 'd', '--dst': 'd', '--orig-dst': 'd', '-o': 'o', '--output': 'o' };
/** Options whose argument is optional (`-n [ip]`): measured, without one they select every entry. */
const NAT: Readonly<Record<string, 'n' | 'g'>> = { '-n': 'n', '--src-nat': 'n', '-g': 'g', '--dst-nat': 'g' };
/** conntrack's other options: known, not modelled. */
const OTHER_OPTIONS = ['-r', '--reply-src', '-q', '--reply-dst', '-j', '--any-nat', '-m', '--mark', '-c', '--secmark', '-e', '--event-mask', '-z', '--zero', '-l', '--label', '-f', '--family', '-t', '--timeout', '-u', '--status', '-w', '--zone', '--orig-zone', '--reply-zone', '-b', '--buffer-size', '--mask-src', '--mask-dst', '--sport', '--dport', '--orig-port-src', '--orig-port-dst', '--reply-port-src', '--reply-port-dst', '--icmp-type', '--icmp-code', '--icmp-id', '--state'];
const PROTOCOLS: Readonly<Record<string, 'icmp' | 'udp' | 'tcp'>> = { icmp: 'icmp', 1: 'icmp', udp: 'udp', 17: 'udp', tcp: 'tcp', 6: 'tcp' };
const PROTO_NUMBER = { icmp: 1, udp: 17, tcp: 6 } as const;
const PROTO_NAME: Readonly<Record<number, string>> = { 1: 'icmp', 17: 'udp', 6: 'tcp' };

/** An address as conntrack reads one (inet_aton: `10.0.1` is 10.0.0.1), with an optional `/len`; null when it is none. */
function parseAddr(text: string): Cidr | null {
  const m = /^(\d+(?:\.\d+){0,3})(?:\/(\d+))?$/.exec(text);
  if (!m) return null;
  const parts = m[1]!.split('.').map(Number);
  const last = parts.pop()!;
  if (parts.some((p) => p > 255) || last >= 2 ** (8 * (4 - parts.length))) return null;
  let addr = 0;
  for (const p of parts) addr = addr * 256 + p;
  addr = addr * 2 ** (8 * (4 - parts.length)) + last;
  const len = m[2] === undefined ? 32 : Number(m[2]);
  if (len > 32) return null;
  // conntrack compares under the mask: host bits of `10.0.1.2/24` select as 10.0.1.0/24 does.
  return { addr: (len === 0 ? 0 : ((addr >>> 0) >>> (32 - len)) << (32 - len)) >>> 0, len };
}

interface Parsed {
  readonly command: 'L' | 'D' | 'F' | 'C';
  readonly protocol: 'icmp' | 'udp' | 'tcp' | null;
  readonly src: Cidr | null;
  readonly dst: Cidr | null;
  readonly srcNat: Ipv4 | null;
  readonly dstNat: Ipv4 | null;
  readonly extended: boolean;
}

/** The command line, read as conntrack's getopt_long reads it; an Output for what it refuses. */
function parse(args: readonly string[]): Parsed | Output {
  let command: Parsed['command'] | null = null;
  let protocol: Parsed['protocol'] = null;
  let src: Parsed['src'] = null;
  let dst: Parsed['dst'] = null;
  let srcNat: Ipv4 | null = null;
  let dstNat: Ipv4 | null = null;
  let extended = false;
  let srcNatSeen = false;
  let dstNatSeen = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (COMMANDS[a] !== undefined) {
      // Measured: `conntrack -L -C` is `Invalid commands combination` (exit 2).
      if (command !== null && command !== COMMANDS[a] && (command === 'C' || COMMANDS[a] === 'C')) return usage('Invalid commands combination');
      command = COMMANDS[a]!;
      // `-L conntrack`: the table is the only one podnet has; expect, dying and unconfirmed are empty here.
      const t = args[i + 1];
      if (t !== undefined && !t.startsWith('-')) {
        i++;
        if (t !== 'conntrack' && t !== 'expect' && t !== 'dying' && t !== 'unconfirmed') return usage(`unknown type \`${t}'`);
        if (t !== 'conntrack') return err(`conntrack: not modelled by podnet: the ${t} table. ${NOT_MODELLED}`, 2);
      }
      continue;
    }
    if (OTHER_COMMANDS.includes(a)) return err(`conntrack: not modelled by podnet: ${a}. ${NOT_MODELLED}`, 2);
    const opt = WITH_ARG[a];
    if (opt !== undefined) {
      const v = args[++i];
      if (v === undefined) return usage(`option \`${a}' requires an argument`);
      if (opt === 'p') {
        const p = PROTOCOLS[v];
        if (p === undefined) return usage(`\`${v}' unsupported protocol`);
        protocol = p;
      } else if (opt === 'o') {
        if (v !== 'extended') return err(`conntrack: not modelled by podnet: -o ${v}. ${NOT_MODELLED}`, 2);
        extended = true;
      } else {
        const addr = parseAddr(v);
        if (addr === null) return usage(`Invalid IP address \`${v}'`);
        if (opt === 's') src = addr;
        else dst = addr;
      }
      continue;
    }
    const nat = NAT[a];
    if (nat !== undefined) {
      const v = args[i + 1];
      // getopt's optional argument: the next word when it is no option (as conntrack's own reading of it).
      if (v !== undefined && !v.startsWith('-')) {
        i++;
        const addr = parseAddr(v);
        if (addr === null || addr.len !== 32) return usage(`Invalid IP address \`${v}'`);
        if (nat === 'n') srcNat = addr.addr;
        else dstNat = addr.addr;
      }
      if (nat === 'n') srcNatSeen = true;
      else dstNatSeen = true;
      continue;
    }
    if (OTHER_OPTIONS.includes(a)) return err(`conntrack: not modelled by podnet: ${a}. ${NOT_MODELLED}`, 2);
    if (a.startsWith('-')) return usage(`unknown option \`${a}'`);
    return usage(`unknown type \`${a}'`);
  }
  if (command === null) return ok(HELP);
  if (command === 'C') {
    // -C counts every entry and takes no filter (measured: `conntrack -C -p icmp -s A` names the first
    // illegal option in conntrack's option table order: src, dst, protonum, src-nat, dst-nat, output).
    const illegal = src !== null ? 'src' : dst !== null ? 'dst' : protocol !== null ? 'protonum' : srcNatSeen ? 'src-nat' : dstNatSeen ? 'dst-nat' : extended ? 'output' : null;
    if (illegal !== null) return usage(`Illegal option \`--${illegal}' with this command`);
  }
  return { command, protocol, src, dst, srcNat, dstNat, extended };
}

/** The parsed filters as core's. */
function filterOf(p: Parsed): ConntrackFilter {
  return {
    ...(p.protocol !== null ? { protocol: PROTO_NUMBER[p.protocol] } : {}),
    ...(p.src !== null ? { src: p.src } : {}),
    ...(p.dst !== null ? { dst: p.dst } : {}),
    ...(p.srcNat !== null ? { srcNat: p.srcNat } : {}),
    ...(p.dstNat !== null ? { dstNat: p.dstNat } : {}),
  };
}

/** The parsed filters as the `conntrack.delete` action's fields. */
function deletion(ns: NsId, p: Parsed): Action {
  const cidr = (q: Cidr): string => (q.len === 32 ? formatIpv4(q.addr) : formatCidr(q));
  return {
    op: 'conntrack.delete', ns,
    ...(p.protocol !== null ? { protocol: p.protocol } : {}),
    ...(p.src !== null ? { src: cidr(p.src) } : {}),
    ...(p.dst !== null ? { dst: cidr(p.dst) } : {}),
    ...(p.srcNat !== null ? { srcNat: formatIpv4(p.srcNat) } : {}),
    ...(p.dstNat !== null ? { dstNat: formatIpv4(p.dstNat) } : {}),
  };
}

/** One tuple's transport fields: `type=8 code=0 id=N` for an echo, `sport=A dport=B` for UDP and TCP. */
function l4Fields(c: ConntrackEntry, reply: boolean): string {
  const k = c.replyL4;
  if (k.startsWith('echo ')) return `type=${reply ? 0 : 8} code=0 id=${k.slice(5)}`;
  const [rs, rd] = k.split('>');
  return reply ? `sport=${rs} dport=${rd}` : `sport=${rd} dport=${rs}`;
}

/**
 * An entry as conntrack -L prints it: `icmp     1 29 src=… dst=… type=8 code=0 id=N src=… … mark=0 use=1`.
 * The seconds left are those a listing a moment after the last packet shows (measured: 29 right after a
 * ping, 24 five seconds later). A TCP entry prints its state (SYN_SENT … TIME_WAIT); one nobody answered is
 * SYN_SENT, UNREPLIED, with `use=2`, as measured for such a flow; a reset answering it deletes the entry.
 */
export function conntrackLine(c: ConntrackEntry, now: number, extended = false): string {
  const name = PROTO_NAME[c.protocol] ?? String(c.protocol);
  const left = Math.max(0, Math.floor((c.expires - now - 1) / 1000));
  const state = c.protocol === 6 ? `${c.tcp ?? 'SYN_SENT'} ` : '';
  const orig = `src=${formatIpv4(c.origSrc)} dst=${formatIpv4(c.origDst)} ${l4Fields(c, false)}`;
  const reply = `src=${formatIpv4(c.replySrc)} dst=${formatIpv4(c.replyDst)} ${l4Fields(c, true)}`;
  const use = c.protocol === 6 && !c.replied ? 2 : 1;
  return `${extended ? 'ipv4     2 ' : ''}${name.padEnd(8)} ${c.protocol} ${left} ${state}${orig} ${c.replied ? '' : '[UNREPLIED] '}${reply} ${c.assured ? '[ASSURED] ' : ''}mark=0 use=${use}`;
}

/**
 * `conntrack -L|-D|-F [-p P] [-s A] [-d A] [-n [A]] [-g [A]] [-o extended]` in the namespace of `ctx`, as
 * conntrack-tools v1.4.7 prints and refuses them. `admin`: the shell holds CAP_NET_ADMIN (ctnetlink refuses
 * even a listing without it). Only live entries are listed or deleted; `-D` and `-F` are one change each.
 */
export function conntrack(ctx: Ctx, args: readonly string[], admin: boolean): Output {
  const p = parse(args);
  if ('status' in p) return p;
  const state = ctx.sim.state;
  const ns = getNs(state, ctx.ns!);
  const live = ns.conntrack.filter((c) => ctLive(c, state.now));
  // -C: the number of entries. Without CAP_NET_ADMIN ctnetlink refuses and conntrack falls back to
  // /proc/sys/net/netfilter/nf_conntrack_count, printing the refusal, the count, and exit 1 (measured with
  // setpriv as nobody, conntrack-tools 1.4.7, kernel 6.18).
  if (p.command === 'C') return { stdout: `${live.length}\n`, stderr: admin ? '' : `${DENIED}\n`, status: admin ? 0 : 1 };
  if (!admin) return p.command === 'F' ? err(`${V}: connection tracking table has been emptied.\n${DENIED}`, 1) : err(DENIED, 1);
  if (p.command === 'F') {
    if (ns.conntrack.length > 0) ctx.sim.apply([{ op: 'conntrack.delete', ns: ns.id }], `${ctx.ns}: conntrack -F`);
    return { stdout: '', stderr: `${V}: connection tracking table has been emptied.\n`, status: 0 };
  }
  const f = filterOf(p);
  const chosen = live.filter((c) => ctMatches(c, f));
  const text = chosen.map((c) => `${conntrackLine(c, state.now, p.extended)}\n`).join('');
  if (p.command === 'L') return { stdout: text, stderr: `${V}: ${chosen.length} flow entries have been shown.\n`, status: 0 };
  // -D prints each entry it deleted; all go in one change.
  if (chosen.length > 0) ctx.sim.apply([deletion(ns.id, p)], `${ctx.ns}: conntrack ${args.join(' ')}`);
  return { stdout: text, stderr: `${V}: ${chosen.length} flow entries have been deleted.\n`, status: chosen.length > 0 ? 0 : 1 };
}
