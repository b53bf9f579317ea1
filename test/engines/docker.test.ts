// dockerd 20.10 (Debian 12's docker.io) on a private containerd, with the
// runtime under test added (--add-runtime) and made the default.
import { describe, expect, inject, it } from 'vitest';
import { dockerLikeSuite } from './lib/dockerlike.ts';
import { BIN, Docker, engineOwnMount } from './lib/engines.ts';
import { skipReason } from './lib/env.ts';

dockerLikeSuite('docker', skipReason('docker', [BIN.dockerd, BIN.docker, BIN.containerd, BIN.shim, BIN.nsenter]), {
  make: () => new Docker(),
  images: () => inject('engineImages'),
  statsLimit64m: /\/ 64MiB/,
  rmForce: ['rm', '-f'],
  makesWorkdir: true,
  oomReport: 'inspect',
  privilegedAsksEveryCap: true,
});

// No daemon needed: runs in plain `npm test` too. dockerd stopped the hard way
// leaves its own mounts; those must not fail the runtime's suite, while a
// mount the runtime left (below a container's rootfs, or anywhere else) must.
describe('leftover mounts: the engine\'s own or the runtime\'s', () => {
  const dir = '/tmp/tsrunc-engines-docker-XXXX';
  it.each([
    ['data', true],
    ['data/overlay2', true],
    ['data/overlay2/0123abcd/merged', true],
    ['data/containers/0123abcd/mounts/shm', true],
    ['exec/netns/0123abcd', true],
    ['containerd-state/io.containerd.runtime.v2.task/moby/0123abcd/rootfs', true],
    ['data/overlay2/0123abcd/merged/proc', false],
    ['containerd-state/io.containerd.runtime.v2.task/moby/0123abcd/rootfs/mnt', false],
    ['exec/runtime-tsrunc/moby/0123abcd', false],
    ['data/volumes/v/_data', false],
  ])('%s: the engine\'s own: %s', (rel, own) => {
    expect(engineOwnMount(dir, `${dir}/${rel}`)).toBe(own);
    expect(engineOwnMount(dir, `/tmp/elsewhere/${rel}`)).toBe(false);
  });
});
