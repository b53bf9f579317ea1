// config.md "POSIX-platform Hooks": each kind at its point, in its namespace,
// with the state on stdin; failures fail the operation (or only warn).
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, isRoot, makeBundle, rootfs, rt, state, stateRoot, uid, until } from './lib/harness.ts';

const root = stateRoot();
afterAll(() => cleanup(root));

/** A hook script on the host that appends "NAME STATUS PID MNTNS ENV" to a log. */
function hookKit() {
  const dir = mkdtempSync(join(tmpdir(), 'tsrunc-hooks-'));
  const log = join(dir, 'log');
  const script = join(dir, 'hook.sh');
  writeFileSync(
    script,
    `#!/bin/sh
state=$(cat)
st=$(echo "$state" | grep -o '"status":"[a-z]*"' | cut -d'"' -f4)
pid=$(echo "$state" | grep -o '"pid":[0-9]*' | cut -d: -f2)
echo "$1 $st $pid $(readlink /proc/self/ns/mnt) $HOOKVAR" >> ${log}
[ "$1" = "$FAIL" ] && { echo "hook $1 says no" >&2; exit 3; }
[ "$1" = "$SLOW" ] && sleep 5
exit 0
`,
  );
  chmodSync(script, 0o755);
  const hook = (name: string, extraEnv: string[] = [], timeout?: number) => ({
    path: script,
    args: ['hook.sh', name],
    env: ['PATH=/usr/bin:/bin', `HOOKVAR=env-${name}`, ...extraEnv],
    ...(timeout ? { timeout } : {}),
  });
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  return { hook, lines, dir };
}

const HOST_MNT = readlinkSync('/proc/self/ns/mnt');

describe.skipIf(!isRoot)('hooks', () => {
  it('run in order, each with the state it should see, in the right namespace', async () => {
    const k = hookKit();
    const id = uid();
    const bundle = makeBundle(['true'], (c) => {
      c.hooks = {
        prestart: [k.hook('prestart')],
        createRuntime: [k.hook('createRuntime')],
        createContainer: [k.hook('createContainer')],
        // startContainer's path resolves in the container: busybox sh there.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /dev/null; echo ok > /dev/null'] }],
        poststart: [k.hook('poststart')],
        poststop: [k.hook('poststop')],
      };
    });
    expect(rt(root, ['create', '-b', bundle, id])).toMatchObject({ code: 0, stderr: '' });
    const pid = state(root, id).pid;
    expect(k.lines().map((l) => l.split(' ')[0])).toEqual(['prestart', 'createRuntime', 'createContainer']);
    expect(rt(root, ['start', id])).toMatchObject({ code: 0, stderr: '' });
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    expect(rt(root, ['delete', id])).toMatchObject({ code: 0, stderr: '' });
    const lines = k.lines().map((l) => l.split(' '));
    expect(lines.map((l) => l[0])).toEqual(['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']);
    const byName = Object.fromEntries(lines.map((l) => [l[0], { status: l[1], pid: Number(l[2]), mnt: l[3], env: l[4] }]));
    expect(byName.prestart).toMatchObject({ status: 'creating', pid, mnt: HOST_MNT, env: 'env-prestart' });
    expect(byName.createRuntime).toMatchObject({ status: 'creating', pid, mnt: HOST_MNT });
    expect(byName.createContainer.status).toBe('creating');
    expect(byName.createContainer.mnt).not.toBe(HOST_MNT); // the container's mount namespace
    expect(byName.poststart).toMatchObject({ status: 'running', pid, mnt: HOST_MNT });
    expect(byName.poststop).toMatchObject({ status: 'stopped', mnt: HOST_MNT });
  });

  it('startContainer runs inside the container before the user process, with state on stdin', () => {
    const out = mkdtempSync(join(tmpdir(), 'tsrunc-out-'));
    const bundle = makeBundle(['sh', '-c', 'echo user >> /out/log'], (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'grep -o "\\"status\\":\\"[a-z]*\\"" > /out/state; hostname >> /out/log'] }] };
      c.hostname = 'hooked';
    });
    expect(rt(root, ['run', '-b', bundle, uid()])).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(out, 'log'), 'utf8')).toBe('hooked\nuser\n');
    expect(readFileSync(join(out, 'state'), 'utf8')).toBe('"status":"created"\n');
  });

  it.each(['prestart', 'createRuntime', 'createContainer'])('a failing %s hook fails create and leaves nothing', (name) => {
    const k = hookKit();
    const id = uid();
    const bundle = makeBundle(['true'], (c) => (c.hooks = { [name]: [k.hook(name, [`FAIL=${name}`])] }));
    const r = rt(root, ['create', '-b', bundle, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${name} hook #0`);
    expect(existsSync(join(root, id))).toBe(false);
  });

  it('a failing startContainer hook fails start; the container is stopped and deleted', () => {
    const id = uid();
    const bundle = makeBundle(['sleep', '100'], (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 7'] }] }));
    expect(rt(root, ['create', '-b', bundle, id]).code).toBe(0);
    const r = rt(root, ['start', id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('startContainer hook #0: exit status 7');
    expect(existsSync(join(root, id))).toBe(false);
  });

  it('a hook over its timeout is killed and fails create', () => {
    const k = hookKit();
    const id = uid();
    const bundle = makeBundle(['true'], (c) => (c.hooks = { createRuntime: [k.hook('createRuntime', ['SLOW=createRuntime'], 1)] }));
    const t0 = Date.now();
    const r = rt(root, ['create', '-b', bundle, id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('timed out');
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it('poststart and poststop failures only warn', async () => {
    const k = hookKit();
    const id = uid();
    const bundle = makeBundle(['true'], (c) => (c.hooks = { poststart: [k.hook('poststart', ['FAIL=poststart'])], poststop: [k.hook('poststop', ['FAIL=poststop'])] }));
    const c = rt(root, ['create', '-b', bundle, id]);
    expect(c.code, c.stderr).toBe(0);
    const s = rt(root, ['start', id]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toContain('level=warning');
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    const d = rt(root, ['delete', id]);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain('poststop hook #0');
    expect(k.lines().map((l) => l.split(' ')[0])).toEqual(['poststart', 'poststop']);
  });

  it("a hook without env gets the runtime's environment, less what dist/tsrunc's entry stub added for Bun", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsrunc-hookenv-'));
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `env > ${dir}/${name}`] });
    const id = uid();
    // createRuntime is started by the addon (environ), poststart and poststop by hooks.ts (process.env).
    const bundle = makeBundle(['true'], (c) => (c.hooks = { createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] }));
    const env: NodeJS.ProcessEnv = { ...process.env, TSRUNC_HOOK_MARK: 'from the caller' };
    delete env.BUN_JSC_useJIT;
    expect(rt(root, ['create', '-b', bundle, id], { env })).toMatchObject({ code: 0, stderr: '' });
    expect(rt(root, ['start', id], { env })).toMatchObject({ code: 0, stderr: '' });
    await until(() => state(root, id).status === 'stopped', 5000, 'stopped');
    expect(rt(root, ['delete', id], { env })).toMatchObject({ code: 0, stderr: '' });
    for (const name of ['createRuntime', 'poststart', 'poststop']) {
      const seen = readFileSync(join(dir, name), 'utf8').split('\n');
      expect(seen, name).toContain('TSRUNC_HOOK_MARK=from the caller');
      expect(seen.filter((l) => l.startsWith('BUN_JSC_')), name).toEqual([]);
    }
  });
});

// runtime-spec: createContainer hooks run in the container's mount namespace
// after the mounts, before pivot_root; runc runs them with the rootfs as
// their cwd, so "./lib/..." is the container's (issue 14, hooks).
describe.skipIf(!isRoot)('createContainer hooks', () => {
  it('run with the rootfs as cwd, in the container\'s mount namespace: a bind mount made at ./lib/... is what the container sees', () => {
    const top = mkdtempSync(join(tmpdir(), 'tsrunc-hookfs-'));
    chmodSync(top, 0o755);
    const fs = join(top, 'rootfs');
    cpSync(rootfs, fs, { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(fs, 'lib'), { recursive: true });
    const shared = mkdtempSync(join(tmpdir(), 'tsrunc-hookshare-'));
    writeFileSync(join(shared, 'libfake.so'), 'from the hook\n');
    const script = join(top, 'hook.sh');
    writeFileSync(script, `#!/bin/sh\npwd > ${top}/cwd\nmkdir -p lib/hooked\nmount --bind ${shared} ./lib/hooked\n`);
    chmodSync(script, 0o755);
    const bundle = makeBundle(['cat', '/lib/hooked/libfake.so'], (c) => {
      c.root.path = fs;
      c.hooks = { createContainer: [{ path: script, args: ['hook.sh'], env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] }] };
    });
    const r = rt(root, ['run', '-b', bundle, uid('mounts')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from the hook\n');
    expect(readFileSync(join(top, 'cwd'), 'utf8')).toBe(fs + '\n');
    // Made in the container's mount namespace: nothing is mounted on the host.
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(join(fs, 'lib/hooked'));
  });
});
