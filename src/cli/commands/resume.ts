// resume: thaws a paused container.
import { cgroupRecord, thaw } from '../../cgroups/freezer.ts';
import { load } from '../../container/load.ts';
import { RuntimeError } from '../../util/errors.ts';
import { HELP, requireArgs, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    const { state, status } = load(g.root, requireArgs(args, 'resume'));
    if (status !== 'paused') throw new RuntimeError('container not paused');
    const record = cgroupRecord(state.cleanup);
    if (!record) throw new RuntimeError('cannot toggle freezer: cgroups not configured for container');
    thaw(record);
    return 0;
  },
};
export default command;
