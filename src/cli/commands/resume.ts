// resume: thaws a paused container.
import { containerCgroup } from '../../cgroups/index.ts';
import { load } from '../../container/load.ts';
import { RuntimeError } from '../../util/errors.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    const { state, status } = load(g.root, requireArgs(args, 'resume'));
    if (status !== 'paused') throw new RuntimeError('container not paused');
    containerCgroup(state).thaw();
    return 0;
  },
};
export default command;
