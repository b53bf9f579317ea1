// resume: thaws a paused container.
import { thawCgroup } from '../../cgroups/freezer.ts';
import { containerRecord } from '../../cgroups/record.ts';
import { load } from '../../container/load.ts';
import { RuntimeError } from '../../util/errors.ts';
import { HELP, idArg, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    const { state, status } = load(g.root, idArg(args));
    if (status !== 'paused') throw new RuntimeError('container not paused');
    thawCgroup(containerRecord(state));
    return 0;
  },
};
export default command;
