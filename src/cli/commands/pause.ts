// pause: freezes every process of the container (runc: running or created
// containers only).
import { freezeCgroup } from '../../cgroups/freezer.ts';
import { containerRecord } from '../../cgroups/record.ts';
import { load } from '../../container/load.ts';
import { RuntimeError } from '../../util/errors.ts';
import { HELP, idArg, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    const { state, status } = load(g.root, idArg(args));
    if (status !== 'running' && status !== 'created') throw new RuntimeError('container not running');
    freezeCgroup(containerRecord(state));
    return 0;
  },
};
export default command;
