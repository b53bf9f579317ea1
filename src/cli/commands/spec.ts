// spec: writes a starting config.json, like `runc spec`.
import { existsSync } from '../../util/fs.ts';
import { join } from '../../util/path.ts';
import { defaultSpec } from '../../config/default.ts';
import { writeFileAtomic } from '../../state/store.ts';
import { RuntimeError } from '../../util/errors.ts';
import { HELP, type Command } from '../command.ts';

const command: Command = {
  args: 'none',
  flags: [HELP, { names: ['bundle', 'b'], type: 'string' }, { names: ['rootless'], type: 'bool' }],
  run(_g, args) {
    const path = join((args.flags.bundle as string | undefined) ?? '.', 'config.json');
    if (existsSync(path)) throw new RuntimeError('File config.json exists. Remove it first');
    writeFileAtomic(path, JSON.stringify(defaultSpec({ rootless: args.flags.rootless === true }), null, '\t') + '\n', 0o666);
    return 0;
  },
};
export default command;
