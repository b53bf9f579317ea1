import { peek } from '../../container/load.ts';
import { ociState } from '../../state/status.ts';
import { out } from '../../util/output.ts';
import { HELP, idArg, type Command } from '../command.ts';

const command: Command = {
  flags: [HELP],
  run(g, args) {
    const { state, status } = peek(g.root, idArg(args));
    out(JSON.stringify(ociState(state, status), null, 2) + '\n');
    return 0;
  },
};
export default command;
