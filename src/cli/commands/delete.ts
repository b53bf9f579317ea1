import { remove } from '../../container/lifecycle.ts';
import { HELP, idArg, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP, { names: ['force', 'f'], type: 'bool' }],
  run(g, args) {
    remove(g.root, idArg(args), args.flags.force === true);
    return 0;
  },
};
export default command;
