// Run by test/systemd.test.ts as a non-root user (setpriv) in the systemd
// guest: the systemd driver's user-manager path (cgroups/systemd*.ts) without
// a container (making one as non-root is the rootless work): plans the
// record for `cgroupsPath` as tsrunc would, starts the scope with a `sleep`
// child's pid, applies and updates limits, prints the record and what the
// cgroup files say as JSON, then destroys it. All of it under a storm of
// signals (below).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cgroupLayout } from '../../src/cgroups/hierarchy.ts';
import { planSystemd, SystemdManager } from '../../src/cgroups/systemd.ts';

const [cgroupsPath, id] = process.argv.slice(2);
const record = planSystemd(cgroupsPath || undefined, id, cgroupLayout(), { pids: { limit: 9 } });
const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 100));
// A signal every millisecond through the driver's D-Bus calls. One that lands
// while the addon waits on the bus ends the wait with EINTR, as the SIGCHLD of
// a dying child does in a real run; libsystemd's own synchronous calls (its
// AddMatch among them) give that EINTR up as their error.
let signalled = 0;
process.on('SIGUSR2', () => signalled++);
const storm = spawn(process.execPath, ['-e', `setInterval(() => { try { process.kill(${process.pid}, 'SIGUSR2'); } catch { process.exit(0); } }, 1)`], { stdio: 'ignore' });
while (!signalled) await new Promise((r) => setTimeout(r, 10));
const cg = new SystemdManager(record);
cg.start(child.pid!, undefined); // no device filter: a non-root caller cannot load one
const dir = record.paths[''];
const own = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').trim();
const before = readFileSync(`${dir}/pids.max`, 'utf8').trim();
cg.apply({ pids: { limit: 11 } });
const after = readFileSync(`${dir}/pids.max`, 'utf8').trim();
cg.destroy();
storm.kill('SIGKILL');
child.kill('SIGKILL');
console.log(JSON.stringify({ record, own, before, after }));
