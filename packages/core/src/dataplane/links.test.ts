import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Link, NetNs } from '../model/types.js';
import { dict } from '../util/dict.js';
import { linkList } from './links.js';

/** A namespace holding only links (what linkList reads). */
const nsOf = (links: Record<string, Link>): NetNs => ({ links }) as unknown as NetNs;

const link = (name: string, up: boolean): Link => ({ kind: 'veth', name, mac: '02:00:00:00:00:01', mtu: 1500, up, ifindex: 1, addrs: [], master: null, peer: { ns: 'pod/default/a', name: 'eth0' } }) as Link;

describe('linkList', () => {
  it('lists the links as Object.values does, in the same order, once per links record', () => {
    // Names as devices are named, and integer-like ones, which a record enumerates first.
    const name = fc.oneof(fc.constantFrom('lo', 'eth0', 'cni0', 'flannel.1', '0', '7', '42', 'constructor'), fc.stringMatching(/^[a-z0-9]{1,15}$/));
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, fc.boolean()), { selector: (t) => t[0], maxLength: 40 }), fc.boolean(), (entries, asDict) => {
        const plain: Record<string, Link> = {};
        for (const [n, up] of entries) plain[n] = link(n, up);
        const links = asDict ? dict(plain) : plain;
        const list = linkList(nsOf(links));
        expect(list).toEqual(Object.values(links));
        list.forEach((l, i) => expect(l).toBe(Object.values(links)[i]));
        // Memoized on the record: the same list again; another record (a new version) gets its own.
        expect(linkList(nsOf(links))).toBe(list);
        const next = asDict ? dict(links) : { ...links };
        expect(linkList(nsOf(next))).not.toBe(list);
        expect(linkList(nsOf(next))).toEqual(list);
      }),
      { numRuns: 200, seed: 20261126 },
    );
  });
});
