// run = create + start + wait (or, with -d, create + start).
import { createContainer } from '../../container/create.ts';
import { foreground } from '../../container/foreground.ts';
import { runHooksWarn } from '../../container/hooks.ts';
import { destroy } from '../../container/lifecycle.ts';
import { startCreated } from '../../container/start.ts';
import { ociState } from '../../state/status.ts';
import { ContainerDir } from '../../state/store.ts';
import { idArg, type Command } from '../command.ts';
import { CREATE_FLAGS } from './create.ts';

const command: Command = {
  flags: [...CREATE_FLAGS, { names: ['detach', 'd'], type: 'bool' }, { names: ['keep'], type: 'bool' }, { names: ['no-subreaper'], type: 'bool' }],
  async run(g, args) {
    const id = idArg(args);
    const f = args.flags;
    const detach = f.detach === true;
    const { dir, state, consoleFd, waitingAtFifo, config } = createContainer({
      root: g.root,
      rootless: g.rootless,
      id,
      systemdCgroup: g.systemdCgroup,
      bundle: (f.bundle as string | undefined) ?? process.cwd(),
      pidFile: f['pid-file'] as string | undefined,
      noPivot: f['no-pivot'] === true,
      noNewKeyring: f['no-new-keyring'] === true,
      preserveFds: (f['preserve-fds'] as number | undefined) ?? 0,
      consoleSocket: f['console-socket'] as string | undefined,
      foregroundTerminal: !detach,
      waitForStart: false,
    });
    if (waitingAtFifo) await startCreated(dir, state);
    else runHooksWarn('poststart', config.hooks?.poststart, ociState(state, 'running'));
    if (detach) return 0;
    dir.unlock();
    try {
      return await foreground(state.pid, consoleFd);
    } finally {
      if (!f.keep) destroy(ContainerDir.open(g.root, id), state);
    }
  },
};
export default command;
