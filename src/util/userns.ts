// Whether tsrunc runs in a user namespace other than the host's (runc's
// userns.RunningInUserNS): the initial namespace maps every id to itself.
import { readFileSync } from './fs.ts';

let cached: boolean | undefined;

export function runningInUserNs(): boolean {
  if (cached === undefined) {
    try {
      const lines = readFileSync('/proc/self/uid_map', 'utf8').trim().split('\n');
      cached = !(lines.length === 1 && /^0\s+0\s+4294967295$/.test(lines[0].trim()));
    } catch {
      cached = false;
    }
  }
  return cached;
}
