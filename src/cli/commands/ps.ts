// ps [--format table|json] ID [ps options]: like runc, ps(1) output (default
// -ef) filtered to the container's processes, or a JSON array of pids.
// The processes are those of the container's cgroup, as runc reads them; a
// container without one (rootless, no delegation) has those of its init's pid
// namespace (runc fails there). ps(1) runs through the addon
// (addon/src/program.cc), not node:child_process, which costs ~1 ms to load
// under Bun.
import { addon } from '../../addon.ts';
import { cgroupRecord, recordPids } from '../../cgroups/record.ts';
import { peek } from '../../container/load.ts';
import { containerPids } from '../../container/processes.ts';
import { signalName } from '../../container/signals.ts';
import { RuntimeError } from '../../util/errors.ts';
import { errnoDescription } from '../../util/fs.ts';
import { out } from '../../util/output.ts';
import { words } from '../../util/text.ts';
import { HELP, idArg, type Command } from '../command.ts';

const command: Command = {
  args: 'id+command',
  flags: [HELP, { names: ['format', 'f'], type: 'string' }],
  run(g, args) {
    const id = idArg(args);
    const { state, status } = peek(g.root, id);
    // (Reading /proc/*/ns/pid of every process costs ~0.8 ms on a quiet host, one file of the cgroup far less.)
    const rec = cgroupRecord(state);
    const pids = status === 'stopped' ? [] : rec ? recordPids(rec) : containerPids(state);
    const format = (args.flags.format as string | undefined) ?? 'table';
    if (format === 'json') {
      out(JSON.stringify(pids) + '\n');
      return 0;
    }
    if (format !== 'table') throw new RuntimeError(`invalid format option`);
    const psArgs = args.rest.length > 1 ? args.rest.slice(1) : ['-ef'];
    const lines = runPs(psArgs).split('\n');
    const col = words(lines[0]).indexOf('PID');
    if (col < 0) throw new RuntimeError("couldn't find PID field in ps output");
    // Each line's PID field by one regex: with JavaScriptCore's interpreter
    // only (scripts/bun-compile.mjs), the regex engine beats JavaScript that
    // scans or splits (the ~80 lines of ps -ef: 36 us, against 100 for a scan
    // by charCodeAt and 155 for split(/\s+/) on each line).
    const pidField = new RegExp(`^\\s*(?:\\S+\\s+){${col}}(\\S+)`);
    const wanted = new Set(pids);
    let text = lines[0] + '\n';
    for (let i = 1; i < lines.length; i++) {
      const m = pidField.exec(lines[i]);
      if (m && wanted.has(Number(m[1]))) text += lines[i] + '\n';
    }
    out(text);
    return 0;
  },
};
export default command;

/**
 * ps(1)'s stdout and stderr together, as runc reads them (CombinedOutput);
 * a failure in the words of runc's (Go's) error, followed by that output.
 */
function runPs(args: string[]): string {
  const r = addon('runProgram')('ps', args);
  if (typeof r === 'number') throw new RuntimeError(`exec: "ps": ${r === -2 /* ENOENT */ ? 'executable file not found in $PATH' : errnoDescription(-r)}`);
  if (r.status === 0) return r.output;
  const how = r.status !== null ? `exit status ${r.status}` : r.signal !== null ? `signal: ${signalName(r.signal) ?? r.signal}` : 'ps: no exit status';
  throw new RuntimeError(`${how}: ${r.output}`);
}
