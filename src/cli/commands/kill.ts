import { kill } from '../../container/kill.ts';
import { parseSignal } from '../../container/signals.ts';
import { HELP, idArg, type Command } from '../command.ts';

const command: Command = {
  args: 'id+signal',
  flags: [HELP, { names: ['all', 'a'], type: 'bool' }],
  run(g, args) {
    const id = idArg(args);
    const all = kill(g.root, id, parseSignal(args.rest[1] ?? 'SIGTERM'), args.flags.all === true);
    return all ? all.then(() => 0) : 0;
  },
};
export default command;
