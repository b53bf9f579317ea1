// events: the container's statistics (--stats: once; otherwise every
// --interval, default 5s) and an {"type":"oom"} event each time the OOM
// killer strikes in its memory cgroup, one JSON object per line, as runc.
// The stream ends when the container's cgroup is gone (delete).
//
// OOMs are noticed by polling the kernel's count (v1 memory.oom_control
// oom_kill and under_oom, v2 memory.events oom_kill) a few times a second:
// runc's eventfd (v1) and inotify (v2) are not at hand in Node, and a count
// loses no event between two looks.
import { readFileSync } from '../../util/fs.ts';
import type { CgroupRecord } from '../../cgroups/types.ts';
import { containerRecord, recordExists } from '../../cgroups/record.ts';
import { emptyStats } from '../../cgroups/stats.ts';
import { v1OomKills, v1Stats } from '../../cgroups/v1-stats.ts';
import { v2OomKills, v2Stats } from '../../cgroups/v2-stats.ts';
import { initAlive } from '../../state/status.ts';
import { toJson } from '../../cgroups/fs.ts';
import { peek } from '../../container/load.ts';
import { RuntimeError } from '../../util/errors.ts';
import { logError } from '../../util/log.ts';
import { out } from '../../util/output.ts';
import { hasLine } from '../../util/text.ts';
import { HELP, idArg, type Command } from '../command.ts';

// Go's units, micro as "us", U+00B5 or U+03BC. Escaped: dist/tsrunc must be ASCII (src/cli/boot.ts).
const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, '\u00b5s': 1e-3, '\u03bcs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("5s", "1m30s", "250ms"), in milliseconds. */
export function parseDuration(text: string): number {
  const bad = (why: string) => new RuntimeError(`invalid value ${JSON.stringify(text)} for flag -interval: time: ${why} ${JSON.stringify(text)}`);
  let s = text;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad('invalid duration');
  let total = 0;
  while (s) {
    const m = /^(\d*\.?\d*)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)?/.exec(s);
    if (!m || m[1] === '' || m[1] === '.') throw bad('invalid duration');
    if (!m[2]) throw bad('missing unit in duration');
    total += parseFloat(m[1]) * UNITS[m[2]];
    s = s.slice(m[0].length);
  }
  return sign * total;
}

const command: Command = {
  flags: [HELP, { names: ['interval'], type: 'string' }, { names: ['stats'], type: 'bool' }],
  // Not async: --stats runs without an await (src/cli/main.ts); the stream is a promise.
  run(g, args) {
    const id = idArg(args);
    const given = args.flags.interval as string | undefined;
    const interval = given === undefined ? 5000 : parseDuration(given);
    if (interval <= 0) throw new RuntimeError('duration interval must be greater than 0');
    // No lock: a stream may last the container's life (see state/store.ts).
    const { state, status } = peek(g.root, id);
    if (status === 'stopped') throw new RuntimeError(`container with id ${id} is not running`);
    // A rootless container without a cgroup of its own (cgroups/rootless.ts:
    // its record has no paths) gets runc's all-zero stats, and its stream
    // ends when it stops rather than with a cgroup it never had.
    const raw = state.cleanup?.cgroup as CgroupRecord | undefined;
    const none = raw !== undefined && Object.keys(raw.paths).length === 0;
    const rec = none ? raw : containerRecord(state, 'cannot get stats');
    const gone = none ? () => !initAlive(state) : () => !recordExists(rec);
    const emit = (e: object) => out(toJson(e) + '\n');
    // The statistics' readers, not the managers (cgroups/v1-stats.ts: why).
    const readStats = () => (none ? emptyStats() : rec.version === 2 ? v2Stats(rec.paths['']) : v1Stats(rec));
    const oomKills = () => (none ? undefined : rec.version === 2 ? v2OomKills(rec.paths['']) : v1OomKills(rec));
    const statsEvent = () => emit({ type: 'stats', id, data: readStats() });
    if (args.flags.stats) {
      statsEvent();
      return 0;
    }
    const underOom = () => {
      const dirPath = rec.version === 1 ? rec.paths.memory : undefined;
      if (!dirPath) return false;
      try {
        return hasLine(readFileSync(`${dirPath}/memory.oom_control`, 'utf8'), 'under_oom 1');
      } catch {
        return false;
      }
    };
    let kills = oomKills() ?? 0;
    let wasUnder = underOom();
    return new Promise<number>((resolve) => {
      const stats = setInterval(() => {
        try {
          statsEvent();
        } catch (e) {
          // A delete removing the cgroup mid-read ends the stream (below), quietly.
          if (!gone()) logError((e as Error).message);
        }
      }, interval);
      const oom = setInterval(() => {
        if (gone()) {
          clearInterval(stats);
          clearInterval(oom);
          resolve(0);
          return;
        }
        let n = kills;
        try {
          n = oomKills() ?? kills;
        } catch {}
        // With the OOM killer disabled (v1) nothing is killed: the cgroup sits under_oom instead.
        const under = underOom();
        const events = Math.max(0, n - kills) + (under && !wasUnder && n === kills ? 1 : 0);
        kills = n;
        wasUnder = under;
        for (let i = 0; i < events; i++) emit({ type: 'oom', id });
      }, 100);
    });
  },
};
export default command;
