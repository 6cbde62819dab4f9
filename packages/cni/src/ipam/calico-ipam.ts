/**
 * calico-ipam (libcalico-go lib/ipam): an IP pool cut into blocks (/26 by default) that nodes claim
 * affinity for. What it does, from libcalico-go's `autoAssign`, `AssignIP` and `releaseIPsFromBlock`:
 *
 * - a node claims a block only when it needs an address (its first pod, or calico-node's tunnel address),
 *   the lowest unclaimed block of the pool first; it assigns from its affine blocks, in claim order, and
 *   claims another block when they are full;
 * - a block hands out its ordinals in the order of its `unallocated` list: 0, 1, 2… at first, and a
 *   released ordinal goes to the end of the list, so an address is not reused at once;
 * - when the pool has no unclaimed block left and strictAffinity is off (the default), the address is
 *   borrowed from another node's block ("Attempting to assign 1 more addresses from non-affine blocks");
 *   with strictAffinity on, or with no free address anywhere, the assignment fails with calico's own
 *   text (`Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: [...]`);
 * - releasing an address keeps an empty block that still has an affinity (only node deletion, or
 *   kube-controllers' GC, releases it); an empty block without affinity is deleted ("Deleting non-affine
 *   block").
 *
 * Calico hunts for a borrowable block in random order; podnet scans blocks in pool order (deterministic).
 * Everything is immutable; a change copies one block, one 64-block chunk and the chunk index.
 */
import { cidrContains, formatCidr, type Cidr, type Ipv4 } from '@podnet/core';

/** One allocation block (libcalico-go model.AllocationBlock). */
export interface CalicoBlock {
  /** Index of the block in the pool (block CIDR = pool + index × block size). */
  readonly index: number;
  /** The node the block is affine to (`host:<node>`), or null once that node is gone. */
  readonly affinity: string | null;
  /** Free ordinals, in the order they will be handed out. */
  readonly unallocated: readonly number[];
}

/** The cluster-wide IPAM state: the pool, the block size and every block that exists. */
export interface CalicoIpamState {
  readonly pool: Cidr;
  readonly blockSize: number;
  /** Chunk (index >>> 6) → block index → block. */
  readonly blocks: Readonly<Record<string, Readonly<Record<string, CalicoBlock>>>>;
  /** Every block index below this one exists (claimed), so a claim never rescans them. */
  readonly lowFree: number;
}

/** The addresses and blocks one node holds (kept in the node's design state). */
export interface CalicoNodeIpam {
  /** Affine block indexes, in claim order. */
  readonly blocks: readonly number[];
}

/** What an assignment changed. */
export interface CalicoAssignment {
  readonly ip: Ipv4;
  readonly state: CalicoIpamState;
  readonly node: CalicoNodeIpam;
  /** The block this assignment claimed for the node, if it claimed one. */
  readonly claimed: number | null;
  /** True when the address comes from a block affine to another node (or to none). */
  readonly borrowed: boolean;
}

/** An IPAM failure with calico-ipam's text. */
export interface CalicoIpamError {
  readonly error: string;
}

/** A new pool. `blockSize` must lie between the pool's length and 32 (calico allows 20 to 32). */
export function calicoIpam(pool: Cidr, blockSize: number): CalicoIpamState {
  return { pool, blockSize, blocks: {}, lowFree: 0 };
}

/** How many blocks the pool holds. */
export function blockCount(s: CalicoIpamState): number {
  return 2 ** (s.blockSize - s.pool.len);
}

/** The CIDR of block `index`. */
export function blockCidr(s: CalicoIpamState, index: number): Cidr {
  return { addr: (s.pool.addr + index * 2 ** (32 - s.blockSize)) >>> 0, len: s.blockSize };
}

/** The block index an address of the pool falls in. */
export function blockIndexOf(s: CalicoIpamState, ip: Ipv4): number {
  return Math.floor((ip - s.pool.addr) / 2 ** (32 - s.blockSize));
}

/** The block with this index, if it exists. */
export function getBlock(s: CalicoIpamState, index: number): CalicoBlock | undefined {
  return s.blocks[String(index >>> 6)]?.[String(index)];
}

/** Every existing block, in pool order. */
export function* allBlocks(s: CalicoIpamState): IterableIterator<CalicoBlock> {
  const chunks = Object.keys(s.blocks).map(Number).sort((a, b) => a - b);
  for (const c of chunks) {
    const chunk = s.blocks[String(c)]!;
    for (const k of Object.keys(chunk).map(Number).sort((a, b) => a - b)) yield chunk[String(k)]!;
  }
}

function withBlock(s: CalicoIpamState, index: number, b: CalicoBlock | null, lowFree = s.lowFree): CalicoIpamState {
  const ck = String(index >>> 6);
  const chunk = { ...s.blocks[ck] };
  if (b === null) delete chunk[String(index)];
  else chunk[String(index)] = b;
  const blocks = { ...s.blocks };
  if (Object.keys(chunk).length === 0) delete blocks[ck];
  else blocks[ck] = chunk;
  return { ...s, blocks, lowFree };
}

function newBlock(s: CalicoIpamState, index: number, affinity: string | null): CalicoBlock {
  const size = 2 ** (32 - s.blockSize);
  return { index, affinity, unallocated: Array.from({ length: size }, (_, i) => i) };
}

function take(b: CalicoBlock, ordinal?: number): CalicoBlock {
  return { ...b, unallocated: ordinal === undefined ? b.unallocated.slice(1) : b.unallocated.filter((o) => o !== ordinal) };
}

/** Claims the lowest unclaimed block for `host`, or null when every block is claimed. */
function claimFree(s: CalicoIpamState, host: string): { state: CalicoIpamState; index: number } | null {
  const n = blockCount(s);
  let i = s.lowFree;
  while (i < n && getBlock(s, i) !== undefined) i++;
  if (i >= n) return null;
  return { state: withBlock(s, i, newBlock(s, i, host), i + 1), index: i };
}

function exhausted(s: CalicoIpamState, strictAffinity: boolean): CalicoIpamError {
  const msg = strictAffinity ? 'No more free affine blocks and strict affinity enabled' : `No IPs available in pools: [${formatCidr(s.pool)}]`;
  return { error: `failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses; ${msg}` };
}

/**
 * Assigns one address to `host` (IPAM autoAssign): from its affine blocks, else from a newly claimed
 * block, else (strictAffinity off) borrowed from any block with a free address.
 */
export function autoAssign(s: CalicoIpamState, node: CalicoNodeIpam, host: string, strictAffinity: boolean): CalicoAssignment | CalicoIpamError {
  const addr = (b: CalicoBlock, ordinal: number) => (blockCidr(s, b.index).addr + ordinal) >>> 0;
  for (const i of node.blocks) {
    const b = getBlock(s, i);
    if (b && b.affinity === host && b.unallocated.length > 0) {
      return { ip: addr(b, b.unallocated[0]!), state: withBlock(s, i, take(b)), node, claimed: null, borrowed: false };
    }
  }
  const c = claimFree(s, host);
  if (c) {
    const b = getBlock(c.state, c.index)!;
    return { ip: addr(b, b.unallocated[0]!), state: withBlock(c.state, c.index, take(b)), node: { blocks: [...node.blocks, c.index] }, claimed: c.index, borrowed: false };
  }
  if (strictAffinity) return exhausted(s, true);
  for (const b of allBlocks(s)) {
    if (b.affinity === host || b.unallocated.length === 0) continue;
    return { ip: addr(b, b.unallocated[0]!), state: withBlock(s, b.index, take(b)), node, claimed: null, borrowed: true };
  }
  return exhausted(s, false);
}

/**
 * Assigns a requested address (IPAM AssignIP, calico's `cni.projectcalico.org/ipAddrs`): it must be in
 * the pool; a block that does not exist yet is claimed for `host`; a block affine to another node lends
 * the address unless strictAffinity is on.
 */
export function assignIp(s: CalicoIpamState, node: CalicoNodeIpam, host: string, ip: Ipv4, strictAffinity: boolean): CalicoAssignment | CalicoIpamError {
  if (!cidrContains(s.pool, ip)) return { error: 'The provided IP address is not in a configured pool\n' };
  const index = blockIndexOf(s, ip);
  const ordinal = ip - blockCidr(s, index).addr;
  let st = s;
  let nd = node;
  let claimed: number | null = null;
  let b = getBlock(s, index);
  if (!b) {
    b = newBlock(s, index, host);
    claimed = index;
    nd = { blocks: [...node.blocks, index] };
    st = withBlock(s, index, b, index === s.lowFree ? s.lowFree + 1 : s.lowFree);
  }
  const borrowed = b.affinity !== host;
  if (borrowed && strictAffinity) return { error: 'Block host affinity does not match' };
  if (!b.unallocated.includes(ordinal)) return { error: `Address already assigned in block` };
  return { ip, state: withBlock(st, index, take(b, ordinal)), node: nd, claimed, borrowed };
}

/**
 * Releases an address (IPAM ReleaseIPs). An emptied block without affinity is deleted; an affine one
 * stays claimed. Releasing an address that is not assigned changes nothing (CNI DEL is idempotent).
 */
export function releaseIp(s: CalicoIpamState, ip: Ipv4): { state: CalicoIpamState; deletedBlock: number | null } {
  if (!cidrContains(s.pool, ip)) return { state: s, deletedBlock: null };
  const index = blockIndexOf(s, ip);
  const b = getBlock(s, index);
  const ordinal = ip - blockCidr(s, index).addr;
  if (!b || b.unallocated.includes(ordinal)) return { state: s, deletedBlock: null };
  const nb: CalicoBlock = { ...b, unallocated: [...b.unallocated, ordinal] };
  if (nb.affinity === null && nb.unallocated.length === 2 ** (32 - s.blockSize)) {
    return { state: withBlock(s, index, null, Math.min(s.lowFree, index)), deletedBlock: index };
  }
  return { state: withBlock(s, index, nb), deletedBlock: null };
}

/**
 * A node is deleted: its affine blocks lose their affinity; the empty ones are deleted (what calico's
 * node controller does when it cleans up after a deleted node).
 */
export function releaseHost(s: CalicoIpamState, node: CalicoNodeIpam): CalicoIpamState {
  let st = s;
  for (const i of node.blocks) {
    const b = getBlock(st, i);
    if (!b) continue;
    if (b.unallocated.length === 2 ** (32 - s.blockSize)) st = withBlock(st, i, null, Math.min(st.lowFree, i));
    else st = withBlock(st, i, { ...b, affinity: null });
  }
  return st;
}
