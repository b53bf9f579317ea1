import { start } from '../../container/lifecycle.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    start(g.root, requireArgs(args, 'start'));
    return 0;
  },
};
export default command;
