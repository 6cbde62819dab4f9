/** Traces as text, one line per step. */
import { formatIpv4, type Step, type Trace } from '@podnet/core';

/** One line per step: `#packet step [namespace dev] kind: what happened (src → dst)`. */
export function formatTrace(trace: Trace): string[] {
  return trace.steps.map((s) => formatStep(s));
}

function formatStep(s: Step): string {
  const where = `${s.ns}${s.dev ? ` ${s.dev}` : ''}`;
  const ip = s.ip ? ` (${formatIpv4(s.ip.header.src)} → ${formatIpv4(s.ip.header.dst)}, ttl ${s.ip.header.ttl})` : '';
  return `${String(s.index).padStart(3)} [${where}] ${s.kind}: ${s.note}${ip}`;
}
