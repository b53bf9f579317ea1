// Signal names and numbers as `kill` accepts them: KILL, SIGKILL, kill, 9.
import { RuntimeError } from '../util/errors.ts';

// Linux's numbers (x86, arm and most others; tsrunc ships for linux-x64),
// as node:os.constants.signals has them (test/path.test.ts compares), kept
// here because loading node:os costs `kill` ~0.3 ms under Bun.
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18,
  SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27,
  SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31,
};

// Digits and names told apart by a loop and startsWith, not by regexes: a
// regex is compiled at its first use (~0.03 ms each under Bun), and `kill` is
// one of the verbs an engine calls for every container.
const isDigits = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x30 || s.charCodeAt(i) > 0x39) return false;
  return s.length > 0;
};

export function parseSignal(s: string): number {
  if (isDigits(s)) {
    const n = Number(s);
    // 0: no signal, only the check that the process exists (kill(2); runc takes it too).
    if (n >= 0 && n < 65) return n;
  } else {
    const upper = s.toUpperCase();
    const name = upper.startsWith('SIG') ? upper.slice(3) : upper;
    const n = SIGNALS['SIG' + name];
    if (n !== undefined) return n;
    // The real-time signals as glibc numbers them for programs (34-64; 32 and
    // 33 are its threads'), and as kill(1) and moby's signal package name them.
    const rt = /^RT(MIN|MAX)(?:([+-])(\d{1,2}))?$/.exec(name);
    if (rt && (rt[2] === undefined || (rt[1] === 'MIN') === (rt[2] === '+'))) {
      const n = rt[1] === 'MIN' ? 34 + Number(rt[3] ?? 0) : 64 - Number(rt[3] ?? 0);
      if (n >= 34 && n <= 64) return n;
    }
  }
  throw new RuntimeError(`unknown signal "${s}"`);
}

export function signalName(n: number): string | undefined {
  return Object.entries(SIGNALS).find(([, v]) => v === n)?.[0];
}
