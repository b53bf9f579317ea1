// Signal names and numbers as `kill` accepts them: KILL, SIGKILL, kill, 9.
import { RuntimeError } from '../util/errors.ts';

// node:os is loaded when a name is looked up, not by every verb that imports this.
const signals = () => process.getBuiltinModule('node:os').constants.signals as Record<string, number>;

export function parseSignal(s: string): number {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    // 0: no signal, only the check that the process exists (kill(2); runc takes it too).
    if (n >= 0 && n < 65) return n;
  } else {
    const name = s.toUpperCase().replace(/^SIG/, '');
    const n = signals()['SIG' + name];
    if (n !== undefined) return n;
    const rt = /^RTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
  }
  throw new RuntimeError(`unknown signal "${s}"`);
}

export function signalName(n: number): string | undefined {
  return Object.entries(signals()).find(([, v]) => v === n)?.[0];
}
