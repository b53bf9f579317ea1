// run = create + start + wait. The container's init is our child; we forward
// the signals we get to it and exit with its status (128+signal if killed).
import { addon } from '../../addon.ts';
import { createContainer } from '../../container/create.ts';
import { destroy } from '../../container/lifecycle.ts';
import { HELP, requireArgs, type Command } from '../command.ts';
import { CREATE_FLAGS } from './create.ts';

const FORWARDED = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'] as const;

const command: Command = {
  flags: [...CREATE_FLAGS, HELP, { names: ['detach', 'd'], type: 'bool' }, { names: ['keep'], type: 'bool' }],
  async run(g, args) {
    const id = requireArgs(args, 'run');
    const f = args.flags;
    const { dir, state } = createContainer({
      root: g.root,
      id,
      bundle: (f.bundle as string | undefined) ?? process.cwd(),
      pidFile: f['pid-file'] as string | undefined,
      noPivot: f['no-pivot'] === true,
      preserveFds: (f['preserve-fds'] as number | undefined) ?? 0,
      waitForStart: false,
    });
    if (f.detach) return 0;
    dir.unlock();
    const forward = (sig: NodeJS.Signals) => {
      try {
        process.kill(state.pid, sig);
      } catch {}
    };
    for (const s of FORWARDED) process.on(s, forward);
    const { code, signal } = await addon().waitpid(state.pid);
    for (const s of FORWARDED) process.off(s, forward);
    if (!f.keep) {
      const { ContainerDir } = await import('../../state/store.ts');
      destroy(ContainerDir.open(g.root, id), state);
    }
    return code ?? 128 + (signal ?? 0);
  },
};
export default command;
