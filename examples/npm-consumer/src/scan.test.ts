/**
 * The scan for Node's globals in a browser bundle (nodeGlobalUses): a use counts unless it is a property
 * name, a `typeof`, or runs only where a `typeof` test of that very name said the global exists.
 */
import { describe, expect, it } from 'vitest';
import { nodeGlobalUses } from './consumer.js';

const names = async (js: string): Promise<string[]> => (await nodeGlobalUses(js)).map((u) => u.split(':')[0]!);

describe('nodeGlobalUses', () => {
  it('finds plain uses of Node globals', async () => {
    expect(await names('a(Buffer.from([1]));b=process.env.X;c=require("fs")')).toEqual(['Buffer', 'process', 'require']);
  });
  it('skips property names, typeof and uses guarded by a typeof of the same name', async () => {
    expect(await names('o.process=1;x={Buffer:2};t=typeof process;f=typeof Buffer<"u"?Buffer.isBuffer:void 0')).toEqual([]);
    expect(await names('typeof process!=="undefined"&&process.env.DEBUG;if(typeof Buffer<"u"){Buffer.alloc(1)}')).toEqual([]);
  });
  it('counts a use the guard does not cover: the other branch, another name, the left of &&', async () => {
    expect(await names('f=typeof Buffer<"u"?0:Buffer.alloc(1)')).toEqual(['Buffer']);
    expect(await names('if(typeof Buffer<"u"){}else{Buffer.alloc(1)}')).toEqual(['Buffer']);
    expect(await names('f=typeof window<"u"?process.env:0')).toEqual(['process']);
    expect(await names('process.env&&typeof process<"u"')).toEqual(['process']);
  });
});
