// A user's own systemd manager, started the way a server with rootless podman
// has it: `loginctl enable-linger`, so that logind starts user-runtime-dir@UID
// (the /run/user/UID tmpfs) and the distribution's user@UID.service (Debian's:
// Slice=user-UID.slice, Delegate=pids memory cpu), with no login session.
// Used by the systemd guest's tests (test/systemd.test.ts,
// test/systemd-rootless.test.ts); needs systemd as PID 1 and systemd-logind.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { until } from './harness.ts';

export interface UserManager {
  /** The user's XDG_RUNTIME_DIR: /run/user/UID. */
  xdg: string;
  /** user@UID.service's cgroup, from the root of the hierarchy. */
  cgroup: string;
}

const unit = (uid: number) => `user@${uid}.service`;

function journal(uid: number): string {
  return spawnSync('journalctl', ['--no-pager', '-n', '40', '-u', unit(uid), '-u', `user-runtime-dir@${uid}.service`, '-u', 'systemd-logind.service'], { encoding: 'utf8' }).stdout;
}

/** Why this host cannot start one, or undefined. */
export function userManagerMissing(): string | undefined {
  if (!existsSync('/usr/bin/loginctl')) return 'needs loginctl (systemd-logind)';
  const enabled = spawnSync('systemctl', ['is-enabled', 'systemd-logind.service'], { encoding: 'utf8' }).stdout.trim();
  return enabled === 'masked' ? 'needs systemd-logind, which is masked here' : undefined;
}

/** Lingers the user and waits for its manager's bus. */
export async function startUserManager(uid: number): Promise<UserManager> {
  const r = spawnSync('loginctl', ['enable-linger', String(uid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`loginctl enable-linger ${uid}: ${r.stderr}\n${journal(uid)}`);
  const xdg = `/run/user/${uid}`;
  try {
    await until(() => existsSync(`${xdg}/bus`), 60_000, `${unit(uid)}'s bus`);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${journal(uid)}`);
  }
  return { xdg, cgroup: `/user.slice/user-${uid}.slice/${unit(uid)}` };
}

/** Ends the linger: logind stops the manager (which kills what is left in its tree) and removes /run/user/UID. */
export async function stopUserManager(uid: number): Promise<void> {
  spawnSync('loginctl', ['disable-linger', String(uid)]);
  await until(() => spawnSync('systemctl', ['is-active', '--quiet', unit(uid)]).status !== 0, 120_000, `${unit(uid)} to stop`);
  spawnSync('systemctl', ['reset-failed', unit(uid)]);
}
