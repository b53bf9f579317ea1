// Signal names and numbers as `kill` accepts them: KILL, SIGKILL, kill, 9.
import { constants } from 'node:os';
import { RuntimeError } from '../util/errors.ts';

const SIGNALS = constants.signals as Record<string, number>;

export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0 && n < 65) return n;
  } else {
    const name = s.toUpperCase().replace(/^SIG/, '');
    const n = SIGNALS['SIG' + name];
    if (n !== undefined) return n;
    const rt = /^RTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
  }
  throw new RuntimeError(`unknown signal "${s}"`);
}

export function signalName(n: number): string | undefined {
  return Object.keys(SIGNALS).find((k) => SIGNALS[k] === n);
}
