import { start } from '../../container/start.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  async run(g, args) {
    await start(g.root, requireArgs(args, 'start'));
    return 0;
  },
};
export default command;
