import { createContainer } from '../../container/create.ts';
import { HELP, idArg, type Command } from '../command.ts';

export const CREATE_FLAGS = [
  HELP,
  { names: ['bundle', 'b'], type: 'string' },
  { names: ['console-socket'], type: 'string' },
  { names: ['pid-file'], type: 'string' },
  { names: ['no-pivot'], type: 'bool' },
  { names: ['no-new-keyring'], type: 'bool' },
  { names: ['preserve-fds'], type: 'int' },
] as const satisfies Command['flags'];

const command: Command = {
  flags: [...CREATE_FLAGS],
  run(g, args) {
    const id = idArg(args);
    const f = args.flags;
    createContainer({
      root: g.root,
      rootless: g.rootless,
      id,
      systemdCgroup: g.systemdCgroup,
      bundle: (f.bundle as string | undefined) ?? process.cwd(),
      pidFile: f['pid-file'] as string | undefined,
      noPivot: f['no-pivot'] === true,
      preserveFds: (f['preserve-fds'] as number | undefined) ?? 0,
      consoleSocket: f['console-socket'] as string | undefined,
      noNewKeyring: f['no-new-keyring'] === true,
      waitForStart: true,
    });
    return 0;
  },
};
export default command;
