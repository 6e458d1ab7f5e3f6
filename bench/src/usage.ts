// CPU time and memory of processes from /proc, for per-request costs: a server's own, and a PostgreSQL server's (the postmaster,
// every live backend, and the backends that already exited, which the postmaster reaped).
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: /proc counts CPU time in ticks of 10 ms on Linux. */
const TICK_MS = 10;

interface Stat {
  ppid: number;
  /** utime + stime, ms. */
  cpuMs: number;
  /** cutime + cstime (children waited for), ms. */
  childrenMs: number;
}

function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces: fields count from after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(fields[i - 3]);
  return { ppid: n(4), cpuMs: (n(14) + n(15)) * TICK_MS, childrenMs: (n(16) + n(17)) * TICK_MS };
}

/** A process's own CPU time so far, ms. */
export function processCpuMs(pid: number): number {
  return stat(pid)?.cpuMs ?? 0;
}

/** The parent of a process. */
export function parentOf(pid: number): number {
  return stat(pid)?.ppid ?? 0;
}

/** CPU time of a process and all its children, live or exited, ms (one level deep: PostgreSQL's shape). */
export function treeCpuMs(root: number): number {
  const own = stat(root);
  if (!own) return 0;
  let total = own.cpuMs + own.childrenMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = stat(Number(entry));
    if (child?.ppid === root) total += child.cpuMs;
  }
  return total;
}

/** A process's resident memory now, KiB. */
export function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

/** The p-th percentile of ascending values. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/**
 * What a Node process retains after a full garbage collection, bytes: its V8 heap and the memory outside it (Buffers,
 * ArrayBuffers) — not what it has yet to collect. The process must run with `--inspect=127.0.0.1:<port>`; this asks
 * its inspector (Chrome DevTools protocol) to collect garbage and to evaluate `process.memoryUsage()`.
 */
export async function memoryAfterGc(inspectPort: number): Promise<{ heapUsed: number; external: number }> {
  const { default: WebSocket } = await import('ws');
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${inspectPort}`);
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const mine = ++id;
      const onMessage = (data: Buffer) => {
        const message = JSON.parse(data.toString()) as {
          id?: number;
          result?: Record<string, unknown>;
          error?: unknown;
        };
        if (message.id !== mine) return;
        socket.off('message', onMessage);
        if (message.error) reject(new Error(JSON.stringify(message.error)));
        else resolve(message.result ?? {});
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: mine, method, params }));
    });
  try {
    await call('HeapProfiler.enable');
    await call('HeapProfiler.collectGarbage');
    await call('HeapProfiler.collectGarbage');
    const evaluated = await call('Runtime.evaluate', {
      expression: 'JSON.stringify(process.memoryUsage())',
      returnByValue: true,
    });
    const usage = JSON.parse(String((evaluated['result'] as { value: unknown }).value)) as {
      heapUsed: number;
      external: number;
    };
    return { heapUsed: usage.heapUsed, external: usage.external };
  } finally {
    socket.close();
  }
}
