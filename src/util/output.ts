// Output goes through the addon's write(2) to fd 1, never process.stdout:
// touching that could switch a pipe or tty shared with a container to
// O_NONBLOCK (DEVELOPERS.md, invariant 1).
import { writeAllSync } from './fs.ts';

export function out(text: string): void {
  writeAllSync(1, text);
}
