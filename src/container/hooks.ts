// POSIX-platform hooks (config.md). Where each kind runs:
//   prestart, createRuntime  here, in the runtime's namespaces, while create's
//                            child waits after the mounts (before pivot_root)
//   createContainer          by that child, in the container's namespaces
//                            (addon/src/child.cc, run_hook)
//   startContainer           by tsrunc-init at `start`, in the container
//                            (addon/init/init.c, run_hook)
//   poststart, poststop      here, after start and after delete
// prestart is run where runc runs it (with createRuntime), which engines'
// networking hooks rely on. A failing hook fails create/start; poststart and
// poststop failures only warn, as the spec says.
import type { Hook, Hooks } from '../config/schema.ts';
import { RuntimeError } from '../util/errors.ts';
import { debugEnabled, logDebug, logWarn } from '../util/log.ts';
import { addon } from '../addon.ts';

/**
 * tsrunc's own environment, which a hook without `env` gets (as runc gives
 * its own), less what dist/tsrunc's entry stub added for Bun (addon/src/environ.cc).
 */
function runtimeEnv(): NodeJS.ProcessEnv {
  const names = addon('stubEnv')();
  if (names.length === 0) return process.env;
  const env = { ...process.env };
  for (const name of names) delete env[name];
  return env;
}

export type HookName = keyof Hooks & string;

function runOne(name: string, i: number, hook: Hook, state: string): string | undefined {
  const args = hook.args?.length ? hook.args : [hook.path];
  if (debugEnabled()) logDebug(`running ${name} hook #${i}: ${hook.path} ${JSON.stringify(args)}`);
  // node:child_process (and the streams and sockets it loads) only when a
  // hook runs: loading it costs ~2 ms, and most containers have no hooks.
  const r = process.getBuiltinModule('node:child_process').spawnSync(hook.path, args.slice(1), {
    argv0: args[0],
    input: state,
    env: hook.env ? Object.fromEntries(hook.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) : runtimeEnv(),
    // Without a timeout the hook runs as long as it likes, as in runc: the config asked for it.
    timeout: hook.timeout ? hook.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  const what = `${name} hook #${i} (${hook.path})`;
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') return `${what}: timed out after ${hook.timeout}s`;
  // A hook that exits without reading its stdin makes our write fail with
  // EPIPE: that is the hook's business, its exit status is what counts.
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'EPIPE') return `${what}: ${r.error.message}`;
  if (r.status !== 0) return `${what}: ${r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`}${output ? `: ${output}` : ''}`;
  return undefined;
}

/** Runs the hooks of one kind in order; the first failure throws. */
export function runHooks(name: HookName, hooks: Hook[] | undefined, state: object): void {
  if (!hooks?.length) return; // most containers have none: no state text to make
  const json = JSON.stringify(state);
  for (let i = 0; i < hooks.length; i++) {
    const failure = runOne(name, i, hooks[i], json);
    if (failure) throw new RuntimeError(failure);
  }
}

/** poststart and poststop: a failure is logged and the rest still run. */
export function runHooksWarn(name: HookName, hooks: Hook[] | undefined, state: object): void {
  if (!hooks?.length) return;
  const json = JSON.stringify(state);
  for (let i = 0; i < hooks.length; i++) {
    const failure = runOne(name, i, hooks[i], json);
    if (failure) logWarn(failure);
  }
}
