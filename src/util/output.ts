// Output goes through writeSync(1): touching process.stdout could switch a
// pipe or tty shared with a container to O_NONBLOCK (DEVELOPERS.md, invariant 1).
import { utf8, writeSync } from './fs.ts';

export function out(text: string): void {
  const buf = utf8(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (e) {
      // stdout may be non-blocking because someone else set it so.
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
