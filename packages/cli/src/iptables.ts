/**
 * `iptables` and `iptables-save` over the model's netfilter rules, as iptables v1.8.9 (nf_tables) prints
 * them (recorded by scripts/iptables-formats.sh in network namespaces; iptables.test.ts compares).
 *
 * podnet models the built-in chains the forwarding engine runs — filter INPUT, FORWARD, OUTPUT (ACCEPT,
 * DROP, REJECT) and nat PREROUTING (DNAT, ACCEPT) and POSTROUTING (MASQUERADE, SNAT, ACCEPT) — and chains of
 * one's own jumped to from them (`-N`, `-X`, `-j CHAIN`, `-j RETURN`: flanneld's FLANNEL-POSTRTG and
 * FLANNEL-FWD), with the matches `-s`, `! -s`, `-d`, `! -d`, `-i`, `-o`, `-p tcp|udp|icmp`, `--dport`,
 * `-m mark` and `-m comment`, and the filter chains' policies; and their packet and byte counters (`-L -v`,
 * `-x`, `-S -v`, `-Z`, `iptables-save -c`), which the simulator counts as packets pass (scripts/counters-formats.sh
 * measured what counts, and how iptables prints it). Everything else (setting counters with -c, renaming a
 * chain, other matches and targets) is refused with a message that says so, rather than accepted and ignored.
 */
import { formatCidr, formatIpv4, formatMark, getNs, isPodnetError, NF_BASE_CHAINS, ownChains, parseMark, policyCountersOf, ruleCountersOf, ruleIs, ruleSpecOf, type Action, type NetNs, type NfChain, type NfRule, type NsCounters, type PacketsBytes, type RuleSpec } from '@podnet/core';
import { serviceName, servicePort } from './services.js';
import { err, ok, type Ctx, type Output } from './types.js';

const V = 'iptables v1.8.9 (nf_tables)';
const TRY = "Try `iptables -h' or 'iptables --help' for more information.";
/** What iptables prints for a bad command line (xtables_error PARAMETER_PROBLEM): exit status 2. */
const usage = (msg: string, blank = false): Output => err(`${V}: ${msg}\n${blank ? '\n' : ''}${TRY}`, 2);
/** Without CAP_NET_ADMIN the nf_tables netlink socket refuses even a listing (measured with setpriv). */
const denied = (tool: string): Output => err(`${tool} v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)`, 4);
/** What podnet does not model, said plainly instead of pretending. */
const MODELLED = 'podnet models the filter chains INPUT, FORWARD, OUTPUT (-j ACCEPT, DROP, REJECT; -P ACCEPT|DROP), the nat chains PREROUTING (-j DNAT, ACCEPT) and POSTROUTING (-j MASQUERADE, SNAT, ACCEPT), and chains of your own jumped to from them (-N, -X, -j CHAIN, -j RETURN), matching -s, ! -s, -d, ! -d, -i, -o, -p tcp|udp|icmp, --dport, -m mark and -m comment';
const notModelled = (what: string): Output => err(`iptables: not modelled by podnet: ${what}. ${MODELLED}`, 2);
const HELP = `[-t filter|nat] -L [CHAIN] [-n] [-v [-x]] [--line-numbers] | -S [CHAIN] [-v] | -Z [CHAIN] | -A|-C CHAIN RULE | -I CHAIN [N] RULE | -R CHAIN N RULE | -D CHAIN RULE|N | -F [CHAIN] | -N CHAIN | -X [CHAIN] | -P CHAIN ACCEPT|DROP; iptables-save [-t filter|nat] [-c]. ${MODELLED}.`;

type Table = 'filter' | 'nat';
/** The built-in chains of each table, in the order iptables lists them. */
const CHAINS = NF_BASE_CHAINS;
/** Targets iptables knows that podnet does not model (any other name is a chain to jump to). */
const OTHER_TARGETS = ['LOG', 'NFLOG', 'MARK', 'CONNMARK', 'REDIRECT', 'TCPMSS', 'CT', 'NOTRACK', 'TRACE', 'CLASSIFY', 'TPROXY', 'NETMAP', 'CHECKSUM', 'TEE', 'SET', 'AUDIT'];
const TARGETS: readonly NfRule['target'][] = ['ACCEPT', 'DROP', 'REJECT', 'MASQUERADE', 'SNAT', 'DNAT', 'RETURN'];
const PROTOCOLS: Readonly<Record<string, 'tcp' | 'udp' | 'icmp' | null>> = { all: null, 0: null, tcp: 'tcp', 6: 'tcp', udp: 'udp', 17: 'udp', icmp: 'icmp', 1: 'icmp' };
const PROTO_NUMBER = { tcp: 6, udp: 17, icmp: 1 } as const;

type Command = 'L' | 'S' | 'F' | 'A' | 'I' | 'R' | 'D' | 'C' | 'N' | 'X' | 'P' | 'Z';
const COMMANDS: Readonly<Record<string, Command>> = {
  '-L': 'L', '--list': 'L', '-S': 'S', '--list-rules': 'S', '-F': 'F', '--flush': 'F',
  '-A': 'A', '--append': 'A', '-I': 'I', '--insert': 'I', '-R': 'R', '--replace': 'R', '-D': 'D', '--delete': 'D', '-C': 'C', '--check': 'C',
  '-N': 'N', '--new-chain': 'N', '-X': 'X', '--delete-chain': 'X', '-P': 'P', '--policy': 'P', '-Z': 'Z', '--zero': 'Z',
};
const REFUSED: Readonly<Record<string, string>> = {
  '-E': '-E (renaming a chain: make the new one with -N, move its rules, delete the old one with -X)', '--rename-chain': '-E (renaming a chain: make the new one with -N, move its rules, delete the old one with -X)',
};
/** Short options that take an argument (getopt's "t:A:I:D:…"); the rest of a cluster is then that argument. */
const WITH_ARG = new Set(['t', 'A', 'I', 'D', 'C', 'R', 'N', 'X', 'E', 'P', 's', 'd', 'i', 'o', 'p', 'j', 'm', 'w', 'g']);

/** `-nvL` → `-n -v -L`, `-tnat` → `-t nat`, `--table=nat` → `--table nat`, as getopt_long reads them. */
function expand(args: readonly string[]): string[] {
  const out: string[] = [];
  // The argument of an option that takes one is taken whole, even when it starts with "-" (`-N -bad`).
  let argument = false;
  for (const a of args) {
    if (argument) { out.push(a); argument = false; continue; }
    const long = /^(--[a-z-]+)=(.*)$/.exec(a);
    if (long) { out.push(long[1]!, long[2]!); continue; }
    if (!/^-[A-Za-z]{2,}/.test(a)) {
      out.push(a);
      argument = /^-[A-Za-z]$/.test(a) && WITH_ARG.has(a[1]!);
      continue;
    }
    for (let i = 1; i < a.length; i++) {
      out.push(`-${a[i]}`);
      if (WITH_ARG.has(a[i]!)) {
        if (i + 1 < a.length) out.push(a.slice(i + 1));
        else argument = true;
        break;
      }
    }
  }
  return out;
}

/** An address or prefix as iptables reads `-s`/`-d`: host bits are cleared, 0.0.0.0/0 is no match at all. */
function prefix(text: string): string | null | Output {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(.*))?$/.exec(text);
  if (!m || m[1]!.split('.').some((o) => Number(o) > 255)) return usage(`host/network \`${text.split('/')[0]}' not found`);
  let len = 32;
  if (m[2] !== undefined) {
    if (/^\d+$/.test(m[2]) && Number(m[2]) <= 32) len = Number(m[2]);
    else {
      const mask = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(m[2]);
      const bits = mask ? mask.slice(1).map(Number).reduce((x, o) => x * 256 + o, 0) : -1;
      const ones = bits >= 0 ? 32 - Math.log2(0x100000000 - bits) : NaN;
      if (!Number.isInteger(ones) || ones < 0) return usage(`invalid mask \`${m[2]}' specified`);
      len = ones;
    }
  }
  if (len === 0) return null;
  const addr = m[1]!.split('.').map(Number).reduce((x, o) => x * 256 + o, 0);
  const net = len === 32 ? addr : addr - (addr % 2 ** (32 - len));
  return `${formatIpv4(net)}/${len}`;
}

const isOutput = (x: unknown): x is Output => typeof x === 'object' && x !== null && 'status' in x;

/** What one command line asks for. */
interface Parsed {
  readonly table: string;
  readonly command: Command;
  readonly chain: string | null;
  readonly number: number | null;
  /** `-P CHAIN POLICY`'s policy. */
  readonly policy: string | null;
  readonly numeric: boolean;
  readonly lineNumbers: boolean;
  /** -v: packet and byte counters (and the interfaces) in listings. */
  readonly verbose: boolean;
  /** -x: exact counters, not rounded to K, M, G. */
  readonly exact: boolean;
  /** -L with -Z: list, then zero what was listed. */
  readonly zero: boolean;
  readonly rule: Partial<Record<keyof RuleSpec, string | number>>;
  readonly hasTarget: boolean;
}

function parse(argv: readonly string[]): Parsed | Output {
  const args = expand(argv);
  let table = 'filter';
  let command: Command | null = null;
  let chain: string | null = null;
  let number: number | null = null;
  let policy: string | null = null;
  let numeric = false;
  let lineNumbers = false;
  let verbose = false;
  let exact = false;
  let zero = false;
  let negate = false;
  const rule: Record<string, string | number> = {};
  const loaded = new Set<string>();
  let target: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | Output => {
      const v = args[i + 1];
      if (v === undefined) return usage(`option "${a}" requires an argument`);
      i++;
      return v;
    };
    const optional = (): string | null => {
      const v = args[i + 1];
      if (v === undefined || v.startsWith('-') || v === '!') return null;
      i++;
      return v;
    };
    if (a === '!') { negate = true; continue; }
    const neg = negate;
    negate = false;
    if (neg && !['-d', '--destination', '--dst', '-s', '--source', '--src'].includes(a)) {
      if (['-i', '--in-interface', '-o', '--out-interface', '-p', '--protocol', '--dport', '--destination-port'].includes(a)) return notModelled(`"! ${a}" (of the negations, ! -s and ! -d are)`);
      return usage(`unknown option "${a}"`);
    }
    const cmd = COMMANDS[a];
    if (cmd !== undefined) {
      // -L and -Z go together: list, then zero (iptables' CMD_LIST_ZERO; measured, "Zeroing chain `INPUT'" after the listing).
      if ((cmd === 'Z' && command === 'L') || (cmd === 'L' && command === 'Z')) {
        command = 'L';
        zero = true;
        chain ??= optional();
        continue;
      }
      if (command !== null) return usage(`Cannot use -${cmd} with -${command}`);
      command = cmd;
      if (cmd === 'L' || cmd === 'S' || cmd === 'F' || cmd === 'X' || cmd === 'Z') chain = optional();
      else {
        const c = value();
        if (isOutput(c)) return c;
        chain = c;
        if (cmd === 'P') {
          const pol = args[i + 1];
          if (pol === undefined) return usage('-P requires a chain and a policy');
          policy = pol;
          i++;
        }
        if (cmd === 'I' || cmd === 'D') {
          const n = optional();
          if (n !== null) {
            if (!/^\d+$/.test(n) || Number(n) < 1) return usage(`Invalid rule number \`${n}'`);
            number = Number(n);
          }
        }
        if (cmd === 'R') {
          // The number is required, and taken whatever it looks like (measured: `-R MY -j DROP`, `-R MY x`).
          const n = args[i + 1];
          if (n === undefined || n.startsWith('-')) return usage('-R requires a rule number');
          i++;
          if (!/^\d+$/.test(n) || Number(n) < 1) return usage(`Invalid rule number \`${n}'`);
          number = Number(n);
        }
      }
      continue;
    }
    if (REFUSED[a] !== undefined) return notModelled(REFUSED[a]!);
    switch (a) {
      case '-t': case '--table': { const v = value(); if (isOutput(v)) return v; table = v; continue; }
      case '-n': case '--numeric': numeric = true; continue;
      case '--line-numbers': lineNumbers = true; continue;
      case '-x': case '--exact': exact = true; continue; // only changes how -v prints counters
      case '-w': case '--wait': optional(); continue; // the xtables lock: the shell runs one command at a time
      case '-v': case '--verbose': verbose = true; continue;
      case '-V': case '--version': return ok(`${V}\n`);
      case '-h': case '--help': return ok(`${V}\n\npodnet's iptables: ${HELP}\n`);
      case '-c': case '--set-counters': return notModelled('-c (setting a rule\'s counters: podnet\'s counters are what packets moved; -Z zeroes them)');
      case '-s': case '--source': case '--src':
      case '-d': case '--destination': case '--dst': {
        const v = value();
        if (isOutput(v)) return v;
        const p = prefix(v);
        if (isOutput(p)) return p;
        const source = a.startsWith('-s') || a.startsWith('--s');
        const key = source ? (neg ? 'notSrc' : 'src') : neg ? 'notDst' : 'dst';
        if (p === null && neg) return notModelled(`"! ${a} ${v}" (a rule that matches no address)`);
        if (p !== null) rule[key] = p;
        continue;
      }
      case '-i': case '--in-interface': case '-o': case '--out-interface': {
        const v = value();
        if (isOutput(v)) return v;
        if (v.endsWith('+')) return notModelled(`the interface wildcard "${v}" (name one interface)`);
        if (v.length > 15) return usage(`interface name \`${v}' must be shorter than IFNAMSIZ (15)`);
        rule[a === '-i' || a === '--in-interface' ? 'inIf' : 'outIf'] = v;
        continue;
      }
      case '-p': case '--protocol': {
        const v = value();
        if (isOutput(v)) return v;
        const p = PROTOCOLS[v.toLowerCase()];
        if (p === undefined) return notModelled(`-p ${v} (of the protocols, tcp, udp and icmp are)`);
        if (p !== null) { rule['protocol'] = p; loaded.add(p); }
        continue;
      }
      case '-m': case '--match': {
        const v = value();
        if (isOutput(v)) return v;
        if (v === 'comment' || v === 'mark' || ((v === 'tcp' || v === 'udp') && rule['protocol'] === v)) { loaded.add(v); continue; }
        if (v === 'tcp' || v === 'udp') return notModelled(`-m ${v} without -p ${v} before it (write -p ${v} -m ${v} --dport N)`);
        return notModelled(`-m ${v} (of the match extensions, comment, mark, tcp and udp are)`);
      }
      case '--dport': case '--destination-port': {
        if (!loaded.has('tcp') && !loaded.has('udp')) return usage(`unknown option "${a}"`);
        const v = value();
        if (isOutput(v)) return v;
        const proto = rule['protocol'] as 'tcp' | 'udp';
        const port = /^\d+$/.test(v) ? Number(v) : servicePort(proto, v);
        if (port === null || port > 65535) return usage(`invalid port/service \`${v}' specified`);
        rule['dport'] = port;
        continue;
      }
      case '--mark': {
        if (!loaded.has('mark')) return usage(`unknown option "${a}"`);
        const v = value();
        if (isOutput(v)) return v;
        try {
          parseMark(v);
        } catch (e) {
          if (!isPodnetError(e)) throw e;
          return usage(`Bad MARK value "${v}"`);
        }
        rule['mark'] = v;
        continue;
      }
      case '--comment': {
        if (!loaded.has('comment')) return usage(`unknown option "${a}"`);
        const v = value();
        if (isOutput(v)) return v;
        if (v.length > 255) return usage('COMMENT must be shorter than 256 characters');
        rule['comment'] = v;
        continue;
      }
      case '-j': case '--jump': {
        const v = value();
        if (isOutput(v)) return v;
        if (OTHER_TARGETS.includes(v)) return notModelled(`-j ${v} (of the targets, ACCEPT, DROP, REJECT, MASQUERADE, SNAT, DNAT, RETURN and a chain of your own are)`);
        target = v;
        // Any other name is a chain to jump to: whether the table has it is known once the namespace is.
        if ((TARGETS as readonly string[]).includes(v)) rule['target'] = v;
        else { rule['target'] = 'JUMP'; rule['jump'] = v; }
        continue;
      }
      case '--to-source': case '--to-destination': {
        const want = a === '--to-source' ? 'SNAT' : 'DNAT';
        if (target !== want) return usage(`unknown option "${a}"`);
        const v = value();
        if (isOutput(v)) return v;
        if (/[-:]/.test(v)) return notModelled(`${a} ${v} (podnet's ${want} rewrites the address to one address, not to a range or a port)`);
        if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.split('.').some((o) => Number(o) > 255)) return usage(`Bad IP address "${v}"`);
        rule['to'] = v;
        continue;
      }
      case '--reject-with': {
        if (target !== 'REJECT') return usage(`unknown option "${a}"`);
        const v = value();
        if (isOutput(v)) return v;
        if (v !== 'icmp-port-unreachable') return notModelled(`--reject-with ${v} (REJECT answers icmp-port-unreachable)`);
        continue;
      }
      case '--to-ports': case '--random': case '--random-fully': case '--persistent':
        return notModelled(`${a} (podnet's MASQUERADE, SNAT and DNAT rewrite addresses, not ports)`);
      case '--sport': case '--source-port': case '--tcp-flags': case '--syn': case '--icmp-type':
        if (loaded.size) return notModelled(`${a} (of the protocol matches, --dport is)`);
        return usage(`unknown option "${a}"`);
    }
    if (a.startsWith('-')) return usage(`unknown option "${a}"`);
    return err(`Bad argument \`${a}'\n${TRY}`, 2);
  }
  if (command === null) return usage('no command specified');
  if ((target === 'SNAT' || target === 'DNAT') && rule['to'] === undefined) return usage(`${target}: option "--to-${target === 'SNAT' ? 'source' : 'destination'}" must be specified`, true);
  if (table === 'nat' && target === 'DROP' && 'AIRDC'.includes(command)) {
    return err(`${V}: \nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n\n${TRY}`, 2);
  }
  return { table, command, chain, number, policy, numeric, lineNumbers, verbose, exact, zero, rule, hasTarget: target !== null };
}

/** The rule as the model's action takes it. */
function spec(table: Table, chain: string, r: Parsed['rule']): RuleSpec {
  return { ...(r as unknown as RuleSpec), table, chain };
}


const chainRules = (ns: NetNs, table: Table, chain: string): NfRule[] => ns.rules.filter((r) => r.table === table && r.chain === chain);

/** The namespace's own chains of `table` as iptables lists them (nf_tables: by name, after the built-in ones). */
const ownSorted = (ns: NetNs, table: Table): string[] => ownChains(ns, table).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** How many rules of `table` jump to `chain` (`Chain NAME (N references)`). */
const references = (ns: NetNs, table: Table, chain: string): number => ns.rules.filter((r) => r.table === table && r.target === 'JUMP' && r.jump === chain).length;

/** A prefix as `iptables -L` shows it: /32 without its length; with `-n` or without, podnet has no DNS to ask. */
function listAddr(c: NfRule['src'], numeric: boolean): string {
  if (c === null) return numeric ? '0.0.0.0/0' : 'anywhere';
  return c.len === 32 ? formatIpv4(c.addr) : formatCidr(c);
}

/**
 * A counter as `iptables -L -v` prints it (xtables_print_num): up to 99999 as it is, in 5 columns; beyond, divided
 * by 1000 (rounded: (n + 500) / 1000) with K, again with M, G, then T, in 4 columns and the letter (measured:
 * 280000 packets print " 280K", 29560000 bytes "30M"). `exact` (-x): as it is, in 8 columns. `table` false (a
 * policy's counters in a chain's title, FMT_NOTABLE): no padding.
 */
export function iptablesNum(n: number, exact: boolean, table = true): string {
  if (exact) return table ? String(n).padStart(8) : String(n);
  if (n <= 99999) return table ? String(n).padStart(5) : String(n);
  let v = n;
  for (const unit of ['K', 'M', 'G']) {
    v = Math.floor((v + 500) / 1000);
    if (v <= 9999) return `${table ? String(v).padStart(4) : String(v)}${unit}`;
  }
  v = Math.floor((v + 500) / 1000);
  return `${table ? String(v).padStart(4) : String(v)}T`;
}

/** -v's interface columns: `*` (or `any` without -n) when the rule names none. */
const ifaceCol = (i: string | null, numeric: boolean): string => (i ?? (numeric ? '*' : 'any')).padEnd(6);

/**
 * One rule as `iptables -L` prints it (xtables' print_rule_details and print_ipv4_addresses, measured); with
 * `counts` (-v), its packets and bytes first and its interfaces after `opt`.
 */
function listLine(r: NfRule, num: number | null, numeric: boolean, counts: { readonly pb: PacketsBytes; readonly exact: boolean } | null = null): string {
  const prot = r.protocol === null ? (numeric ? '0' : 'all') : numeric ? String(PROTO_NUMBER[r.protocol]) : r.protocol;
  const dst = r.notDst ? `!${listAddr(r.notDst, numeric)}` : ` ${listAddr(r.dst, numeric)}`;
  const src = r.notSrc ? `!${listAddr(r.notSrc, numeric)}` : ` ${listAddr(r.src, numeric)}`;
  const pc = counts === null ? '' : `${iptablesNum(counts.pb.packets, counts.exact)} ${iptablesNum(counts.pb.bytes, counts.exact)} `;
  const io = counts === null ? '' : `  ${ifaceCol(r.inIf, numeric)} ${ifaceCol(r.outIf, numeric)}`;
  let line = `${num === null ? '' : `${String(num).padEnd(4)} `}${pc}${(r.jump ?? r.target).padEnd(9)}  ${prot.padEnd(5)}--${io} ${src.padEnd(20)} ${dst.padEnd(20)} `;
  if (r.dport !== null && (r.protocol === 'tcp' || r.protocol === 'udp')) line += ` ${r.protocol} dpt:${numeric ? r.dport : serviceName(r.protocol, r.dport)}`;
  if (r.mark) line += ` mark match ${formatMark(r.mark)}`;
  if (r.comment !== null) line += ` /* ${r.comment} */`;
  if (r.target === 'REJECT') line += ' reject-with icmp-port-unreachable';
  if ((r.target === 'SNAT' || r.target === 'DNAT') && r.to !== null) line += ` to:${formatIpv4(r.to)}`;
  return line;
}

/** xtables_save_string: a word of letters, digits, "_" and "-" bare, anything else in double quotes. */
function saveString(s: string): string {
  return /^[\w-]+$/.test(s) ? s : `"${s.replace(/["\\']/g, '\\$&')}"`;
}

/** One rule as `iptables -S` and `iptables-save` print it; with `pb` (`-S -v`), `-c PACKETS BYTES` before the target. */
function saveLine(r: NfRule, pb: PacketsBytes | null = null): string {
  const parts = ['-A', r.chain];
  if (r.src) parts.push('-s', formatCidr(r.src));
  if (r.notSrc) parts.push('!', '-s', formatCidr(r.notSrc));
  if (r.dst) parts.push('-d', formatCidr(r.dst));
  if (r.notDst) parts.push('!', '-d', formatCidr(r.notDst));
  if (r.inIf !== null) parts.push('-i', r.inIf);
  if (r.outIf !== null) parts.push('-o', r.outIf);
  if (r.protocol !== null) parts.push('-p', r.protocol);
  if (r.dport !== null && (r.protocol === 'tcp' || r.protocol === 'udp')) parts.push('-m', r.protocol, '--dport', String(r.dport));
  if (r.mark) parts.push('-m', 'mark', '--mark', formatMark(r.mark));
  if (r.comment !== null) parts.push('-m', 'comment', '--comment', saveString(r.comment));
  if (pb !== null) parts.push('-c', String(pb.packets), String(pb.bytes));
  parts.push('-j', r.jump ?? r.target);
  if (r.target === 'REJECT') parts.push('--reject-with', 'icmp-port-unreachable');
  if (r.target === 'SNAT' && r.to !== null) parts.push('--to-source', formatIpv4(r.to));
  if (r.target === 'DNAT' && r.to !== null) parts.push('--to-destination', formatIpv4(r.to));
  return parts.join(' ');
}

/**
 * Whether the kernel takes `target` in this table and chain (RULE_APPEND failed (Invalid argument) otherwise,
 * measured). In a chain of one's own, a nat target is judged by the hooks that reach it (core's rule actions).
 */
function kernelAccepts(table: Table, chain: string, target: string): boolean {
  if (target === 'RETURN' || target === 'JUMP') return true;
  if (table === 'filter') return target === 'ACCEPT' || target === 'DROP' || target === 'REJECT';
  if (target === 'ACCEPT') return true;
  if (!(CHAINS.nat as readonly string[]).includes(chain)) return target === 'MASQUERADE' || target === 'SNAT' || target === 'DNAT';
  if (target === 'MASQUERADE' || target === 'SNAT') return chain === 'POSTROUTING' || (target === 'SNAT' && chain === 'INPUT');
  if (target === 'DNAT') return chain === 'PREROUTING' || chain === 'OUTPUT';
  return false;
}

/**
 * Turns a model error from the rule and chain actions into what iptables prints: the kernel's refusals
 * (`V:  RULE_APPEND failed …`, `CHAIN_DEL failed …`) exit 4, iptables' own checks of the command line
 * (`V: …`) 2 with the usage hint, the others (`iptables: …`) 1.
 */
function ruleError(e: unknown): Output {
  if (!isPodnetError(e)) throw e;
  if (e.message.startsWith(`${V}:  `)) return err(e.message, 4);
  if (e.message.startsWith(`${V}: `)) return err(`${e.message}\n${TRY}`, 2);
  if (e.message.startsWith('iptables: ')) return err(e.message.endsWith('.') ? e.message : `${e.message}.`, 1);
  return usage(e.message);
}

/** Applies `actions` as one change, or prints what iptables would have for the error it met. */
function change(ctx: Ctx, actions: Action | readonly Action[], line: string): Output {
  try {
    ctx.sim.apply(actions as Action[], line);
    return ok();
  } catch (e) {
    return ruleError(e);
  }
}

/**
 * `iptables [-t nat|filter] -L [CHAIN] [-n] [--line-numbers] | -S [CHAIN] | -A|-C CHAIN RULE | -I CHAIN [N] RULE |
 * -R CHAIN N RULE | -D CHAIN RULE | -D CHAIN N | -F [CHAIN] | -N CHAIN | -X [CHAIN]` in the namespace of `ctx`, as iptables v1.8.9
 * (nf_tables) prints and refuses them. `admin`: the shell holds CAP_NET_ADMIN (without it the kernel refuses
 * even a listing). Rules and chains go through the model's `rule.*` and `chain.*` actions, so the next packet
 * meets them. What podnet does not model (counters, renaming, other matches and targets) is refused.
 */
export function iptables(ctx: Ctx, args: readonly string[], admin: boolean): Output {
  if (!admin) return denied('iptables');
  const p = parse(args);
  if (isOutput(p)) return p;
  if (p.table !== 'filter' && p.table !== 'nat') {
    if (['mangle', 'raw', 'security'].includes(p.table)) return notModelled(`the ${p.table} table`);
    return err(`${V}: table '${p.table}' does not exist\nPerhaps iptables or your kernel needs to be upgraded.`, 3);
  }
  const table: Table = p.table;
  const ns = getNs(ctx.sim.state, ctx.ns!);
  const base = CHAINS[table] as readonly string[];
  const own = ownSorted(ns, table);
  const line = `${ctx.ns}: iptables ${args.join(' ')}`;
  if (p.command === 'N') return change(ctx, { op: 'chain.new', ns: ns.id, table, chain: p.chain! }, line);
  if (p.command === 'P') {
    if (table === 'nat' && p.policy === 'DROP') return err(`${V}: \nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n\n${TRY}`, 2);
    return change(ctx, { op: 'chain.policy', ns: ns.id, table, chain: p.chain as NfChain, policy: p.policy as 'ACCEPT' | 'DROP' }, line);
  }
  const policyOf = (c: string): string => (table === 'filter' && ns.nfDropPolicy.includes(c as NfChain) ? 'DROP' : 'ACCEPT');
  if (p.command === 'X') {
    // Without a name, every chain of one's own, in one transaction: one busy chain and none goes (measured).
    const gone = p.chain === null ? own : [p.chain];
    if (gone.length === 0) return ok();
    return change(ctx, gone.map((chain): Action => ({ op: 'chain.del', ns: ns.id, table, chain })), line);
  }
  if (p.chain !== null && !base.includes(p.chain) && !own.includes(p.chain)) {
    if (p.command === 'L' || p.command === 'S') return err(`${V}: chain \`${p.chain}' in table \`${table}' is incompatible, use 'nft' tool.`, 1);
    return err('iptables: No chain/target/match by that name.', 1);
  }
  // Built-in chains in the table's order, then one's own by name, as nf_tables lists them.
  const listed = p.chain === null ? [...base, ...own] : [p.chain];
  const counters: NsCounters | null = p.verbose || p.command === 'Z' ? ctx.sim.counters(ns.id) : null;
  if (p.command === 'L') {
    // -v adds the counters' columns (5 wide, or 8 with -x: measured) and the interfaces'.
    const counts = p.verbose ? (p.exact ? '    pkts      bytes ' : ' pkts bytes ') : '';
    const header = `${p.lineNumbers ? 'num  ' : ''}${counts}target     prot opt ${p.verbose ? 'in     out     ' : ''}source               destination         `;
    const policy = (c: string): string => {
      if (!p.verbose) return `policy ${policyOf(c)}`;
      const pb = policyCountersOf(counters!, table, c);
      return `policy ${policyOf(c)} ${iptablesNum(pb.packets, p.exact, false)} packets, ${iptablesNum(pb.bytes, p.exact, false)} bytes`;
    };
    const title = (c: string): string => (base.includes(c) ? `Chain ${c} (${policy(c)})` : `Chain ${c} (${references(ns, table, c)} references)`);
    const listing = listed.map((c) => [title(c), header, ...chainRules(ns, table, c).map((r, i) => listLine(r, p.lineNumbers ? i + 1 : null, p.numeric, p.verbose ? { pb: ruleCountersOf(counters!, r), exact: p.exact } : null))].join('\n')).join('\n\n') + '\n';
    if (!p.zero) return ok(listing);
    ctx.sim.zeroCounters(ns.id, table, p.chain ?? undefined);
    return ok(listing + listed.map((c) => `Zeroing chain \`${c}'\n`).join(''));
  }
  if (p.command === 'Z') {
    // Measured: `iptables -Z` and `-Z CHAIN` print nothing; a chain that does not exist is refused above.
    ctx.sim.zeroCounters(ns.id, table, p.chain ?? undefined);
    return ok();
  }
  if (p.command === 'S') {
    // -v adds `-c PACKETS BYTES` to every line (measured: `-P INPUT ACCEPT -c 0 0`, `… -c 4 336 -j FLANNEL-FWD`).
    const pol = (c: string): string => {
      if (!p.verbose) return '';
      const pb = policyCountersOf(counters!, table, c);
      return ` -c ${pb.packets} ${pb.bytes}`;
    };
    const heads = listed.map((c) => (base.includes(c) ? `-P ${c} ${policyOf(c)}${pol(c)}` : `-N ${c}`));
    return ok([...heads, ...listed.flatMap((c) => chainRules(ns, table, c).map((r) => saveLine(r, p.verbose ? ruleCountersOf(counters!, r) : null)))].map((l) => `${l}\n`).join(''));
  }
  if (p.command === 'F') {
    const flushed = listed.filter((c) => chainRules(ns, table, c).length > 0);
    return flushed.length === 0 ? ok() : change(ctx, flushed.map((chain): Action => ({ op: 'chain.flush', ns: ns.id, table, chain })), line);
  }
  const chain = p.chain!;
  const rules = chainRules(ns, table, chain);
  if (p.command === 'D' && p.number !== null) {
    const r = rules[p.number - 1];
    if (r === undefined) return err('iptables: Index of deletion too big.', 1);
    return change(ctx, { op: 'rule.del', ns: ns.id, rule: ruleSpecOf(r) }, line);
  }
  if (p.command === 'I' && p.number !== null && p.number > rules.length + 1) return err('iptables: Index of insertion too big.', 1);
  if ((chain === 'PREROUTING' || chain === 'INPUT') && p.rule['outIf'] !== undefined) return usage(`Can't use -o with ${chain}`, true);
  if ((chain === 'POSTROUTING' || chain === 'OUTPUT') && p.rule['inIf'] !== undefined) return usage(`Can't use -i with ${chain}`, true);
  if (!p.hasTarget) return notModelled('a rule without -j (a rule that only counts packets)');
  const rule = spec(table, chain, p.rule);
  if (rule.target === 'JUMP' && !own.includes(rule.jump!)) return usage(`Chain '${rule.jump!}' does not exist`);
  if (p.command === 'C' || p.command === 'D') {
    // A rule matches when every match, the target and its options are the same (the comment too).
    if (!rules.some((r) => ruleIs(r, rule))) return err('iptables: Bad rule (does a matching rule exist in that chain?).', 1);
    return p.command === 'D' ? change(ctx, { op: 'rule.del', ns: ns.id, rule }, line) : ok();
  }
  if (p.command === 'R' && p.number! > rules.length) return err('iptables: Index of replacement too big.', 1);
  const verb = p.command === 'A' ? 'APPEND' : p.command === 'R' ? 'REPLACE' : 'INSERT';
  if (!kernelAccepts(table, chain, rule.target)) return err(`${V}:  RULE_${verb} failed (Invalid argument): rule in chain ${chain}`, 4);
  if (table === 'nat' && (chain === 'INPUT' || chain === 'OUTPUT')) return notModelled(`the nat table's ${chain} chain (podnet translates in PREROUTING and POSTROUTING; the chain lists empty)`);
  if (p.command === 'R') return change(ctx, { op: 'rule.replace', ns: ns.id, rule, position: p.number! }, line);
  return change(ctx, p.command === 'A' ? { op: 'rule.append', ns: ns.id, rule } : { op: 'rule.insert', ns: ns.id, rule, ...(p.number === null ? {} : { position: p.number }) }, line);
}

/**
 * `iptables-save [-t nat|filter]` in the namespace of `ctx`, as iptables-save v1.8.9 (nf_tables) prints it.
 * `date` is the header's and footer's time (the lab shell passes the simulator's clock, so a transcript is the
 * same on every run). A node's namespace prints both tables, which kube-proxy and the CNI create on every
 * node; another namespace prints the tables that hold a rule (a fresh pod's prints nothing, as measured).
 * The chains' `[0:0]` is what iptables-nft prints for a built-in chain whatever the traffic (measured: the
 * nf_tables base chains keep no policy counters), not a counter podnet leaves at zero.
 */
export function iptablesSave(ctx: Ctx, args: readonly string[], admin: boolean, date: string): Output {
  if (!admin) return denied('iptables-save');
  let only: string | null = null;
  let withCounters = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-t' || a === '--table') {
      only = args[++i] ?? null;
      if (only === null) return err(`iptables-save v1.8.9 (nf_tables): option '${a}' requires an argument`, 1);
    } else if (a.startsWith('--table=')) only = a.slice(8);
    else if (a === '-c' || a === '--counters') withCounters = true;
    else return err(`Unknown arguments found on commandline`, 1);
  }
  if (only !== null && only !== 'filter' && only !== 'nat') {
    if (['mangle', 'raw', 'security'].includes(only)) return notModelled(`the ${only} table`);
    return err(`Table \`${only}' does not exist`, 1);
  }
  const ns = getNs(ctx.sim.state, ctx.ns!);
  const node = ns.id.startsWith('node/');
  const counters = withCounters ? ctx.sim.counters(ns.id) : null;
  // -c: each built-in chain's policy counters and `[PACKETS:BYTES]` before each rule (measured: `:POSTROUTING
  // ACCEPT [3:222]`, `[4:336] -A FORWARD …`); a chain of one's own has no policy, `[0:0]`.
  const pol = (t: string, c: string): string => {
    if (counters === null) return '[0:0]';
    const pb = policyCountersOf(counters, t, c);
    return `[${pb.packets}:${pb.bytes}]`;
  };
  const ruleLine = (r: NfRule): string => {
    if (counters === null) return saveLine(r);
    const pb = ruleCountersOf(counters, r);
    return `[${pb.packets}:${pb.bytes}] ${saveLine(r)}`;
  };
  const tables = (['filter', 'nat'] as const).filter((t) => (only === null || only === t) && (node || ns.rules.some((r) => r.table === t) || ownChains(ns, t).length > 0));
  return ok(tables.map((t) => {
    const own = ownSorted(ns, t);
    return [
      `# Generated by iptables-save v1.8.9 (nf_tables) on ${date}`, `*${t}`,
      ...CHAINS[t].map((c) => `:${c} ${t === 'filter' && ns.nfDropPolicy.includes(c) ? 'DROP' : 'ACCEPT'} ${pol(t, c)}`),
      ...own.map((c) => `:${c} - [0:0]`),
      ...[...CHAINS[t], ...own].flatMap((c) => chainRules(ns, t, c).map(ruleLine)),
      'COMMIT', `# Completed on ${date}`,
    ].map((l) => `${l}\n`).join('');
  }).join(''));
}
