import { start } from '../../container/start.ts';
import { HELP, idArg, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    // (A promise only of a failure: see start.)
    return start(g.root, idArg(args)) ?? 0;
  },
};
export default command;
