// pause: freezes every process of the container (runc: running or created
// containers only).
import { containerCgroup } from '../../cgroups/index.ts';
import { load } from '../../container/load.ts';
import { RuntimeError } from '../../util/errors.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    const { state, status } = load(g.root, requireArgs(args, 'pause'));
    if (status !== 'running' && status !== 'created') throw new RuntimeError('container not running');
    containerCgroup(state).freeze();
    return 0;
  },
};
export default command;
