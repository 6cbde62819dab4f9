/**
 * CPU profiling for the benchmark (`pnpm bench --profile`): records a V8 CPU profile of one section
 * through the inspector, maps every frame back to its TypeScript source line (tsx compiles each module
 * to one line with an inline source map, so raw profile positions are useless), and summarises the
 * top functions by self and by inclusive time.
 */
import { Session } from 'node:inspector/promises';

interface CallFrame { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number }
interface ProfNode { id: number; callFrame: CallFrame; children?: number[] }
export interface CpuProfile { nodes: ProfNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** One row of a summary: a function, where it is, and its share of the sampled time. */
export interface HotSpot {
  readonly fn: string;
  readonly where: string;
  readonly ms: number;
  readonly pct: number;
}

export interface ProfileSummary {
  readonly section: string;
  readonly totalMs: number;
  readonly self: readonly HotSpot[];
  readonly inclusive: readonly HotSpot[];
}

// ---- source maps (just enough of v3 to map a generated position to a source line) ----

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

interface Segment { col: number; src: number; line: number }
interface SourceMap { sources: string[]; lines: Segment[][] }

function decodeVlq(s: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of s) {
    const d = B64_VALUE.get(c)!;
    value += (d & 31) << shift;
    if (d & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

function parseSourceMap(json: { sources: string[]; mappings: string }): SourceMap {
  const lines: Segment[][] = [];
  let src = 0;
  let line = 0;
  for (const l of json.mappings.split(';')) {
    const segs: Segment[] = [];
    let col = 0;
    for (const seg of l.split(',')) {
      if (!seg) continue;
      const v = decodeVlq(seg);
      col += v[0]!;
      if (v.length >= 4) {
        src += v[1]!;
        line += v[2]!;
        segs.push({ col, src, line });
      }
    }
    lines.push(segs);
  }
  return { sources: json.sources, lines };
}

function lookup(map: SourceMap, line: number, col: number): { source: string; line: number } | null {
  const segs = map.lines[line];
  if (!segs || segs.length === 0) return null;
  let lo = 0;
  let hi = segs.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segs[mid]!.col <= col) { best = mid; lo = mid + 1; } else hi = mid - 1;
  }
  const s = segs[Math.max(best, 0)]!;
  return { source: map.sources[s.src] ?? '?', line: s.line + 1 };
}

// ---- recording ----

let session: Session | null = null;

/** Starts the sampling profiler (default interval 100 µs; longer sections can sample less often). */
export async function startProfile(intervalUs = 100): Promise<void> {
  if (!session) {
    session = new Session();
    session.connect();
  }
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
}

/** Stops the profiler and summarises the profile with frames mapped to TypeScript source lines. */
export async function stopProfile(section: string, top = 15): Promise<{ summary: ProfileSummary; profile: CpuProfile }> {
  if (!session) throw new Error('startProfile first');
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  await session.post('Profiler.disable');
  // Source maps of the scripts in the profile: Debugger.enable replays scriptParsed for every script.
  const maps = new Map<string, SourceMap | null>();
  const wanted = new Set(profile.nodes.map((n) => n.callFrame.scriptId));
  const onParsed = (m: { params: { scriptId: string; sourceMapURL?: string } }) => {
    const { scriptId, sourceMapURL } = m.params;
    if (!wanted.has(scriptId) || maps.has(scriptId)) return;
    if (sourceMapURL?.startsWith('data:application/json;base64,')) {
      try {
        maps.set(scriptId, parseSourceMap(JSON.parse(Buffer.from(sourceMapURL.slice(29), 'base64').toString('utf8'))));
      } catch {
        maps.set(scriptId, null);
      }
    }
  };
  session.on('Debugger.scriptParsed', onParsed);
  await session.post('Debugger.enable');
  await session.post('Debugger.disable');
  session.off('Debugger.scriptParsed', onParsed);
  return { summary: summarise(section, profile, maps, top), profile };
}

function shortPath(url: string): string {
  return url.replace(/^file:\/\//, '').replace(/^.*?\/(packages|node_modules)\//, '$1/').replace(/^.*\/\.pnpm\/[^/]+\/node_modules\//, 'node_modules/');
}

function summarise(section: string, prof: CpuProfile, maps: Map<string, SourceMap | null>, top: number): ProfileSummary {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = new Map<number, string>();
  const label = (n: ProfNode): string => {
    let k = keyOf.get(n.id);
    if (k !== undefined) return k;
    const f = n.callFrame;
    const map = maps.get(f.scriptId);
    const pos = map ? lookup(map, f.lineNumber, f.columnNumber) : null;
    const where = pos ? `${shortPath(f.url)}:${pos.line}` : f.url ? `${shortPath(f.url)}:${f.lineNumber + 1}` : '(native)';
    k = `${f.functionName || '(anonymous)'}\t${where}`;
    keyOf.set(n.id, k);
    return k;
  };
  const selfUs = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) selfUs.set(prof.samples[i]!, (selfUs.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let total = 0;
  // Samples inside the profiler's own start-up (the inspector dispatch under startProfile) are not
  // the section's work: leave them out of every figure.
  const ownOverhead = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame.functionName;
      if (f === 'startProfile' || f === 'stopProfile') return true;
    }
    return false;
  };
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)' || ownOverhead(id)) continue;
    total += us;
    const k = label(n);
    self.set(k, (self.get(k) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const ck = label(byId.get(cur)!);
      if (seen.has(ck)) continue;
      seen.add(ck);
      incl.set(ck, (incl.get(ck) ?? 0) + us);
    }
  }
  const rows = (m: Map<string, number>, skipRootish: boolean): HotSpot[] => [...m]
    .filter(([k]) => !skipRootish || !/^\((root|anonymous)\)\t|^(run|evaluate|section|main)\t|module_job|^\(anonymous\)\t.*bench\/run\.ts/.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => {
      const [fn, where] = k.split('\t') as [string, string];
      return { fn, where, ms: us / 1e3, pct: (100 * us) / total };
    });
  return { section, totalMs: total / 1e3, self: rows(self, false), inclusive: rows(incl, true) };
}

/** The summary as printable lines. */
export function formatSummary(s: ProfileSummary): string[] {
  const line = (h: HotSpot) => `  ${h.pct.toFixed(1).padStart(5)}%  ${h.ms.toFixed(0).padStart(6)} ms  ${h.fn}  ${h.where}`;
  return [
    `profile: ${s.section} (${s.totalMs.toFixed(0)} ms sampled)`,
    ' top self time:', ...s.self.map(line),
    ' top inclusive time:', ...s.inclusive.map(line),
  ];
}
