// Planning namespaces: flags, joins (user first), and a type the kernel lacks.
import { describe, expect, it } from 'vitest';
import { CLONE_FLAGS, planNamespaces } from '../src/container/namespaces.ts';

describe('planNamespaces', () => {
  it('new ones become clone flags, ones with a path are joined, the user namespace first', () => {
    const ns = planNamespaces([{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'user', path: '/proc/1/ns/user' }, { type: 'mount' }]);
    expect(ns.cloneFlags).toBe(CLONE_FLAGS.pid | CLONE_FLAGS.mount);
    expect(ns.joinNamespaces.map((j) => j.path)).toEqual(['/proc/1/ns/user', '/proc/1/ns/net']);
    expect(ns.isNew('pid') && ns.has('network') && !ns.isNew('network')).toBe(true);
  });

  it('a namespace type this kernel lacks is refused by name', () => {
    expect(() => planNamespaces([{ type: 'mount' }, { type: 'time' }], (t) => t !== 'time')).toThrow('this kernel has no time namespaces');
  });
});
