// What the test node changes on the host is recorded and undone: the restore is proved here on this host's real
// kernel settings, iptables, links, network namespaces, mounts and cgroups (no node runs in this tier, so nothing
// else changes them meanwhile). Root only; elsewhere the test states that it cannot change the host.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureHostState, compareHostState, restoreHostState } from './host-state.js';

const root = process.getuid?.() === 0;
const sh = (command: string, ...args: string[]) => execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });

describe('host state', () => {
  if (!root) {
    it('cannot be changed without root, so no node starts (the e2e tier says so too)', () => {
      expect(captureHostState().sysctls).toBeTypeOf('object');
    });
    return;
  }

  it('undoes kernel settings, iptables chains, links, network namespaces, mounts, cgroups and host paths', () => {
    const before = captureHostState();
    const dir = mkdtempSync(join(tmpdir(), 'agentspec-host-state-'));
    try {
      const panic = readFileSync('/proc/sys/kernel/panic', 'utf8').trim();
      writeFileSync('/proc/sys/kernel/panic', panic === '10' ? '11' : '10');
      sh('iptables', '-t', 'nat', '-N', 'AGENTSPEC-TEST');
      sh('iptables', '-t', 'nat', '-A', 'OUTPUT', '-d', '203.0.113.1/32', '-j', 'AGENTSPEC-TEST');
      sh('ip', 'link', 'add', 'as-test0', 'type', 'bridge');
      sh('ip', 'netns', 'add', 'agentspec-test');
      mkdirSync(join(dir, 'mnt'));
      sh('mount', '-t', 'tmpfs', 'tmpfs', join(dir, 'mnt'));
      mkdirSync('/sys/fs/cgroup/pids/agentspec-test/child', { recursive: true });
      mkdirSync('/var/log/pods', { recursive: true });

      const changed = compareHostState(before, captureHostState());
      expect(changed).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^sysctl kernel\.panic: /),
          'iptables ip4/nat differs',
          'links: as-test0 added',
          'netns: agentspec-test added',
          `mounts: ${join(dir, 'mnt')} added`,
          'cgroups: pids/agentspec-test added',
        ]),
      );
      expect(restoreHostState(before)).toEqual([]);
      expect(compareHostState(before, captureHostState())).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
