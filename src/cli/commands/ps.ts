// ps [--format table|json] ID [ps options]: like runc, ps(1) output (default
// -ef) filtered to the container's processes, or a JSON array of pids.
import { execFileSync } from 'node:child_process';
import { peek } from '../../container/load.ts';
import { containerPids } from '../../container/processes.ts';
import { RuntimeError } from '../../util/errors.ts';
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
    const lines = execFileSync('ps', psArgs, { encoding: 'utf8' }).split('\n');
    const col = lines[0].trim().split(/\s+/).indexOf('PID');
    if (col < 0) throw new RuntimeError("couldn't find PID field in ps output");
    const wanted = new Set(pids);
    const body = lines.slice(1).filter((l) => l && wanted.has(Number(l.trim().split(/\s+/)[col])));
    out([lines[0], ...body].join('\n') + '\n');
    return 0;
  },
};
export default command;
