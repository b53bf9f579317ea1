// src/util/path.ts against node:path itself (and container/signals.ts's table against node:os), on the inputs that decide its
// rules (empty, `.`, `..` at and above the root, repeated and trailing slashes).
import * as node from 'node:path';
import { describe, expect, it } from 'vitest';
import * as own from '../src/util/path.ts';
import { constants } from 'node:os';
import { parseSignal, SIGNALS } from '../src/container/signals.ts';
import { validateId } from '../src/state/store.ts';

const PATHS = ['', '.', '..', '/', '//', '///', 'a', 'a/', 'a//b', './a', 'a/./b', 'a/../b', 'a/..', 'a/../', '../a', '../../a/b', '/a', '/a/', '/a//b', '/a/b/', '/a/b//', '//a', '//a/b', '/..', '/../a', '/a/../..', 'a/b/../../..', '/a/./b/../c/.', 'a/b/c/', '.hidden', '/x/.../y', '/a/b/c/../../d'];

describe('util/path.ts is node:path for tsrunc\'s uses', () => {
  it('normalize, dirname, basename, isAbsolute', () => {
    for (const p of PATHS) {
      expect(own.basename(p), p).toBe(node.basename(p));
      expect(own.normalize(p), p).toBe(node.normalize(p));
      expect(own.dirname(p), p).toBe(node.dirname(p));
      expect(own.isAbsolute(p), p).toBe(node.isAbsolute(p));
    }
  });
  it('join, of two and of three parts', () => {
    for (const a of PATHS) for (const b of PATHS) expect(own.join(a, b), `${a} + ${b}`).toBe(node.join(a, b));
    for (const a of PATHS.slice(0, 8)) for (const b of PATHS.slice(8, 16)) for (const c of PATHS.slice(16)) expect(own.join(a, b, c)).toBe(node.join(a, b, c));
    expect(own.join()).toBe(node.join());
  });
  it('resolve (against the cwd too) and relative', () => {
    for (const a of PATHS) {
      expect(own.resolve(a), a).toBe(node.resolve(a));
      for (const b of PATHS) {
        expect(own.resolve(a, b), `${a} , ${b}`).toBe(node.resolve(a, b));
        expect(own.relative(a, b), `${a} -> ${b}`).toBe(node.relative(a, b));
      }
    }
    expect(own.resolve()).toBe(node.resolve());
  });
});

// Not a path, but the same kind of copy: container/signals.ts's table is node:os's.
describe("container/signals.ts's table", () => {
  it('is node:os.constants.signals on this platform', () => {
    expect({ ...SIGNALS }).toEqual({ ...constants.signals });
  });

  it('parseSignal takes what runc takes: numbers 0-64, names with or without SIG in any case, RTMIN+n and RTMAX-n', () => {
    for (const [text, n] of [['9', 9], ['0', 0], ['09', 9], ['64', 64], ['KILL', 9], ['SIGKILL', 9], ['sigterm', 15], ['usr1', 10], ['SIGRTMIN', 34], ['RTMIN+3', 37], ['sigrtmin+2', 36], ['RTMIN+30', 64], ['RTMAX', 64], ['SIGRTMAX-1', 63], ['rtmax-30', 34]] as const)
      expect(parseSignal(text), text).toBe(n);
    for (const text of ['', '65', '-1', '1.5', ' 9', 'SIG', 'SIGSIGKILL', 'NOPE', 'RTMIN+', 'RTMIN+x', 'RTMIN+31', 'RTMIN-1', 'RTMAX+1', 'RTMAX-31', 'RTMIN+100', '９'])
      expect(() => parseSignal(text), JSON.stringify(text)).toThrow(`unknown signal "${text}"`);
  });
});

// The id rule is runc's regex; store.ts checks it by a loop over the characters.
describe('validateId', () => {
  const runcRule = (id: string) => /^[\w+.-]+$/.test(id) && id !== '.' && id !== '..';
  it('accepts and refuses what runc does', () => {
    const ids = ['a', 'A-b_c.d+e', '0', '...', '.a', 'a..b', '', '.', '..', 'a/b', 'a b', 'é', 'a\u0000', 'a\nb', 'ö-x', '-', '+', '_', 'x'.repeat(1024), 'a:b', 'a@b', 'a\\b'];
    for (let c = 0; c < 256; c++) ids.push(`x${String.fromCharCode(c)}y`);
    for (const id of ids) {
      if (runcRule(id)) expect(() => validateId(id), JSON.stringify(id)).not.toThrow();
      else expect(() => validateId(id), JSON.stringify(id)).toThrow('invalid container id format');
    }
  });
});
