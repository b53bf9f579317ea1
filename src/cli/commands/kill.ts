import { kill } from '../../container/kill.ts';
import { parseSignal } from '../../container/signals.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP, { names: ['all', 'a'], type: 'bool' }],
  run(g, args) {
    const id = requireArgs(args, 'kill');
    const all = kill(g.root, id, parseSignal(args.rest[1] ?? 'SIGTERM'), args.flags.all === true);
    return all ? all.then(() => 0) : 0;
  },
};
export default command;
