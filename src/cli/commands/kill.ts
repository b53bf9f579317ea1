import { kill } from '../../container/kill.ts';
import { parseSignal } from '../../container/signals.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP, { names: ['all', 'a'], type: 'bool' }],
  async run(g, args) {
    const id = requireArgs(args, 'kill');
    await kill(g.root, id, parseSignal(args.rest[1] ?? 'SIGTERM'), args.flags.all === true);
    return 0;
  },
};
export default command;
