/**
 * `eksctl` against the simulated cluster, for what an EKS user types when nodes must be replaced:
 * `eksctl get cluster` and `eksctl create nodegroup`. New nodes join the way a managed node group's
 * instances do — a fresh instance, its kubelet started with the max pods the VPC CNI's configuration at
 * that moment allows — so prefix delegation reaches a cluster through new nodes, as on EKS (existing
 * nodes keep the max pods they booted with). Output lines follow eksctl's logger: local time, a symbol,
 * two spaces, the message.
 */
import { cidrSize, fabricLookup, formatIpv4, isPodnetError, shardGet, type Simulator } from '@podnet/core';
import { awsInstanceType } from '@podnet/cni';
import { SIM_EPOCH_MS, tabwrite } from './format.js';
import { installNodeAgents } from './kube.js';
import { err, ok, type Output } from './types.js';

/** The simulated EKS cluster's name and region (`eksctl get cluster`). */
export const EKS_CLUSTER = { name: 'podnet-lab', region: 'us-west-2', version: '1.31' };

/** What eksctl needs from the shell: the simulator and the node groups created so far (name → nodes). */
export interface EksctlHost {
  readonly sim: Simulator;
  readonly nodegroups: Map<string, readonly string[]>;
}

function stamp(sim: Simulator): string {
  return new Date(SIM_EPOCH_MS + sim.now()).toISOString().slice(0, 19).replace('T', ' ');
}

/** Flags as eksctl (cobra/pflag) reads them: `--flag value` and `--flag=value`. */
function flags(args: readonly string[], known: readonly string[]): { values: Map<string, string>; positional: string[] } | Output {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) { positional.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (!known.includes(name)) return err(`Error: unknown flag: --${name}`);
    if (name === 'managed' && eq < 0) { values.set(name, 'true'); continue; }
    const v = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (v === undefined) return err(`Error: flag needs an argument: --${name}`);
    values.set(name, v);
  }
  return { values, positional };
}

/** `eksctl …`. */
export function eksctl(host: EksctlHost, args: readonly string[]): Output {
  const [verb, noun, ...rest] = args;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    return ok('The official CLI for Amazon EKS\n\nUsage: eksctl [command] [flags]\n\nCommands (podnet):\n  eksctl get cluster\n  eksctl create nodegroup --cluster NAME --name NG --node-type TYPE --nodes N [--max-pods-per-node N]\n');
  }
  if (verb === 'get' && (noun === 'cluster' || noun === 'clusters')) {
    return ok(tabwrite([['NAME', 'REGION', 'EKSCTL CREATED'], [EKS_CLUSTER.name, EKS_CLUSTER.region, 'True']]).map((l) => `${l}\n`).join(''));
  }
  if (verb === 'create' && (noun === 'nodegroup' || noun === 'ng')) return createNodegroup(host, rest);
  return err(`Error: podnet models "eksctl get cluster" and "eksctl create nodegroup", not "eksctl ${[verb, noun].filter(Boolean).join(' ')}"`);
}

function createNodegroup(host: EksctlHost, args: readonly string[]): Output {
  const sim = host.sim;
  const f = flags(args, ['cluster', 'name', 'node-type', 'nodes', 'max-pods-per-node', 'managed']);
  if ('status' in f) return f;
  const cluster = f.values.get('cluster');
  if (cluster === undefined) return err('Error: --cluster must be set');
  if (cluster !== EKS_CLUSTER.name) return err(`Error: cannot find EKS cluster "${cluster}" in region "${EKS_CLUSTER.region}" (eksctl get cluster lists podnet's one cluster)`);
  const type = awsInstanceType(sim.design);
  if (type === undefined) return err(`Error: podnet: eksctl needs an EKS-style cluster (the AWS VPC CNI); this cluster runs ${sim.design.name}`);
  const nodeType = f.values.get('node-type') ?? type;
  if (nodeType !== type) return err(`Error: podnet models one instance type per cluster (${type}, whose ENI limits the design computes with), not ${nodeType}`);
  const count = Number(f.values.get('nodes') ?? '2');
  if (!Number.isInteger(count) || count < 1 || count > 10) return err(`Error: --nodes must be a whole number from 1 to 10 in podnet, not ${f.values.get('nodes') ?? ''}`);
  const maxPodsFlag = f.values.get('max-pods-per-node');
  const maxPods = maxPodsFlag === undefined ? undefined : Number(maxPodsFlag);
  if (maxPods !== undefined && (!Number.isInteger(maxPods) || maxPods < 1)) return err(`Error: --max-pods-per-node must be a positive whole number, not ${maxPodsFlag}`);
  const name = f.values.get('name') ?? `ng-${sim.now().toString(16).slice(-8)}`;
  if (host.nodegroups.has(name)) return err(`Error: creating CloudFormation stack "eksctl-${EKS_CLUSTER.name}-nodegroup-${name}": AlreadyExistsException: Stack [eksctl-${EKS_CLUSTER.name}-nodegroup-${name}] already exists`);
  const managed = f.values.get('managed') !== 'false';
  const t = stamp(sim);
  const lines = [
    `${t} [ℹ]  will use version ${EKS_CLUSTER.version} for new nodegroup(s) based on control plane version`,
    `${t} [ℹ]  1 nodegroup (${name}) was included (based on the include/exclude rules)`,
    `${t} [ℹ]  will create a CloudFormation stack for each of 1 ${managed ? 'managed ' : ''}nodegroups in cluster "${EKS_CLUSTER.name}"`,
    `${t} [ℹ]  waiting for at least ${count} node(s) to become ready in "${name}"`,
  ];
  const joined: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const ip = freeNodeIp(sim);
      if (ip === null) return { stdout: `${lines.join('\n')}\n`, stderr: 'Error: the subnet has no free address for another instance\n', status: 1 };
      // An instance's private DNS name in the region, as EC2 gives it and the kubelet registers it.
      const nodeName = `ip-${formatIpv4(ip.ip).replace(/\./g, '-')}.${EKS_CLUSTER.region}.compute.internal`;
      // The kubelet's --max-pods: the flag's value, else what the VPC CNI's configuration allows now.
      sim.addNode({ name: nodeName, ip: formatIpv4(ip.ip), segment: ip.segment, ...(maxPods !== undefined ? { maxPods } : {}) });
      joined.push(nodeName);
    }
  } catch (e) {
    if (isPodnetError(e)) return { stdout: `${lines.join('\n')}\n`, stderr: `Error: ${e.message}\n`, status: 1 };
    throw e;
  }
  installNodeAgents(sim);
  host.nodegroups.set(name, joined);
  lines.push(`${t} [ℹ]  nodegroup "${name}" has ${count} node(s)`, ...joined.map((n) => `${t} [ℹ]  node "${n}" is ready`));
  lines.push(`${t} [✔]  created 1 ${managed ? 'managed ' : ''}nodegroup(s) in cluster "${EKS_CLUSTER.name}"`);
  return ok(`${lines.join('\n')}\n`);
}

/** The lowest free address of the first node's subnet from the gateway + 10, as podnet allocates node IPs. */
function freeNodeIp(sim: Simulator): { ip: number; segment: string } | null {
  const first = sim.nodes()[0];
  const seg = first ? sim.state.underlay.segments[first.segment]! : Object.values(sim.state.underlay.segments)[0]!;
  const last = (seg.cidr.addr + cidrSize(seg.cidr) - 2) >>> 0;
  for (let ip = (seg.gateway + 10) >>> 0; ip <= last; ip++) {
    if (shardGet(sim.state.ipIndex, String(ip)) === undefined && fabricLookup(seg, ip) === undefined) return { ip, segment: seg.name };
  }
  return null;
}
