// ps [--format table|json] ID [ps options]: like runc, ps(1) output (default
// -ef) filtered to the container's processes, or a JSON array of pids.
// ps(1) runs through the addon (addon/src/program.cc), not node:child_process,
// which costs ~1 ms to load under Bun.
import { addon } from '../../addon.ts';
import { peek } from '../../container/load.ts';
import { containerPids } from '../../container/processes.ts';
import { signalName } from '../../container/signals.ts';
import { RuntimeError } from '../../util/errors.ts';
import { errnoDescription } from '../../util/fs.ts';
import { out } from '../../util/output.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP, { names: ['format', 'f'], type: 'string' }],
  run(g, args) {
    const id = requireArgs(args, 'ps');
    const { state, status } = peek(g.root, id);
    const pids = status === 'stopped' ? [] : containerPids(state);
    const format = (args.flags.format as string | undefined) ?? 'table';
    if (format === 'json') {
      out(JSON.stringify(pids) + '\n');
      return 0;
    }
    if (format !== 'table') throw new RuntimeError(`invalid format option`);
    const psArgs = args.rest.length > 1 ? args.rest.slice(1) : ['-ef'];
    const lines = runPs(psArgs).split('\n');
    const col = lines[0].trim().split(/\s+/).indexOf('PID');
    if (col < 0) throw new RuntimeError("couldn't find PID field in ps output");
    const wanted = new Set(pids);
    const body = lines.slice(1).filter((l) => l && wanted.has(Number(l.trim().split(/\s+/)[col])));
    out([lines[0], ...body].join('\n') + '\n');
    return 0;
  },
};
export default command;

/**
 * ps(1)'s stdout and stderr together, as runc reads them (CombinedOutput);
 * a failure in the words of runc's (Go's) error, followed by that output.
 */
function runPs(args: string[]): string {
  const r = addon().runProgram('ps', args);
  if (typeof r === 'number') throw new RuntimeError(`exec: "ps": ${r === -2 /* ENOENT */ ? 'executable file not found in $PATH' : errnoDescription(-r)}`);
  if (r.status === 0) return r.output;
  const how = r.status !== null ? `exit status ${r.status}` : r.signal !== null ? `signal: ${signalName(r.signal) ?? r.signal}` : 'ps: no exit status';
  throw new RuntimeError(`${how}: ${r.output}`);
}
