// The fleet dashboard in Debian's Chromium (playwright-core), served by the real control plane on PostgreSQL, with
// real agents heartbeating through the SDK's auto-registration: sign-in, the fleet table updated live from the event
// stream, filters and sort, the agent view with its history chart, an instance going offline, screenshots at 1280 and
// 390 px in light and dark, and an axe-core scan of both views.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AutoRegistration, summarize, type AgentManifest, type HealthCheck, type HealthReport } from '@agentspec/sdk';
import { recordFigures, startControlPlaneProcess, waitFor, type ControlPlaneProcess } from '@agentspec/e2e';
import { testDatabase } from '@agentspec/e2e/vitest';

const root = resolve(import.meta.dirname, '..', '..');
const shots = join(root, '.test-results', 'dashboard');
const CHROMIUM = process.env['AGENTSPEC_CHROMIUM'] ?? '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** A manifest whose audit gives a chosen grade: the fewer fields, the more rules fail. */
function manifest(name: string, rich: boolean): AgentManifest {
  return {
    apiVersion: 'agentspec.io/v1',
    kind: 'AgentSpec',
    metadata: { name, version: '1.0.0', description: `The ${name} agent.` },
    spec: {
      model: {
        provider: 'openai',
        id: 'gpt-4o-mini-2024-07-18',
        apiKey: '$secret:openai',
        ...(rich
          ? {
              fallback: { provider: 'groq', id: 'llama-3.3-70b', maxRetries: 2 },
              costControls: { maxMonthlyUSD: 100 },
            }
          : {}),
      },
      prompts: { system: rich ? '$file:prompts/system.md' : 'You help.', hotReload: false },
      ...(rich
        ? {
            guardrails: {
              input: [{ type: 'prompt-injection', action: 'reject' }],
              output: [{ type: 'toxicity-filter', threshold: 0.7, action: 'reject' }],
            },
            evaluation: {
              framework: 'deepeval',
              datasets: [{ name: 'd', path: 'd.jsonl' }],
              metrics: ['hallucination'],
              thresholds: { hallucination: 0.1 },
              ciGate: true,
            },
            observability: {
              tracing: { backend: 'langfuse' },
              logging: { structured: true, redactFields: ['apiKey'] },
            },
          }
        : {}),
    },
  } as unknown as AgentManifest;
}

const check = (id: string, status: 'pass' | 'fail', severity: 'error' | 'warning'): HealthCheck => ({
  id,
  category: 'env',
  status,
  severity,
  ...(status === 'fail'
    ? { message: `${id.slice(4)} is not set`, remediation: `Set ${id.slice(4)} in the agent's environment.` }
    : { latencyMs: 3 }),
});
const healthy = (name: string): HealthReport => summarize(name, [check('env:REGION', 'pass', 'error')]);
const degraded = (name: string): HealthReport => summarize(name, [check('env:CACHE_URL', 'fail', 'warning')]);
const unhealthy = (name: string): HealthReport =>
  summarize(name, [check('env:REGION', 'pass', 'error'), check('env:OPENAI_API_KEY', 'fail', 'error')]);

interface TestAgent {
  namespace: string;
  name: string;
  report: () => HealthReport;
  registration: AutoRegistration;
}

let cp: ControlPlaneProcess;
let databaseUrl = '';
let browser: Browser;
const agents = new Map<string, TestAgent>();

function startAgent(
  namespace: string,
  name: string,
  rich: boolean,
  report: (name: string) => HealthReport,
  transport: 'ws' | 'http',
): void {
  const m = manifest(name, rich);
  const agent: TestAgent = { namespace, name, report: () => report(name), registration: undefined as never };
  agent.registration = new AutoRegistration({
    config: {
      controlPlaneUrl: cp.url,
      adminKey: cp.adminKey,
      agentName: name,
      namespace,
      instanceId: `${name}-1`,
      runtime: 'k8s',
      transport,
    },
    manifest: m,
    report: async () => agent.report(),
    log: () => undefined,
  }).start();
  agents.set(name, agent);
}

beforeAll(async () => {
  databaseUrl = await testDatabase();
  cp = await startControlPlaneProcess({ databaseUrl, env: { AGENTSPEC_REAPER_INTERVAL_SECONDS: '1' } });
  startAgent('team-a', 'coach', true, healthy, 'ws');
  startAgent('team-a', 'writer', false, degraded, 'http');
  startAgent('team-b', 'scout', false, unhealthy, 'http');
  await waitFor(
    'three agents heartbeating',
    async () => [...agents.values()].every((a) => a.registration.status.heartbeats >= 2),
    { timeoutMs: 60_000 },
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(shots, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const agent of agents.values()) agent.registration.stop();
  await cp?.stop();
});

/** A page signed in (the key typed into the form, as a person does), with CSP violations collected. */
async function signedIn(
  options: { width?: number; colorScheme?: 'light' | 'dark' } = {},
): Promise<{ page: Page; context: BrowserContext; cspErrors: string[] }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
  });
  await page.goto(`${cp.url}/`);
  await page.getByLabel('Admin key').fill(cp.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('fleet-table').waitFor();
  return { page, context, cspErrors };
}

const rowOf = (page: Page, name: string) => page.locator(`tr[data-agent$="/${name}"]`);

async function axeSerious(page: Page): Promise<{ id: string; impact: string; nodes: number }[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate<{ id: string; impact: string; nodes: number }[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((result) =>
      result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })),
    )`);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

describe('the fleet dashboard in Chromium', () => {
  it('is served with a strict CSP, hashed immutable assets and no inline script', async () => {
    const index = await fetch(`${cp.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script has a src
    expect(html).not.toMatch(/<style|\sstyle=/);
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      expect(asset).toMatch(/-[\w-]{8}\.(js|css)$/);
      const response = await fetch(`${cp.url}${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
    }
  });

  it('the whole bundle is under 150 KB gzipped', () => {
    const assets = join(root, 'dashboard', 'dist', 'assets');
    const gzipped = readdirSync(assets).reduce((sum, f) => sum + gzipSync(readFileSync(join(assets, f))).length, 0);
    recordFigures('dashboard', {
      suite: 'dashboard bundle (JS + CSS, gzipped)',
      cases: 1,
      KiB: Math.round(gzipped / 1024),
    });
    expect(gzipped).toBeLessThan(150 * 1024);
  });

  it('sign-in: a wrong key gets a clear message; the right one shows the fleet, and the key stays out of URL and cookies', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${cp.url}/`);
    await page.getByLabel('Admin key').fill('not-the-admin-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('That key was refused');
    await page.getByLabel('Admin key').fill(cp.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('fleet-table').waitFor();
    expect(await page.locator('tbody tr').count()).toBe(3);
    expect(page.url()).not.toContain(cp.adminKey);
    expect(await context.cookies()).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem('agentspec.adminKey'))).toBe(cp.adminKey);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await context.close();
  });

  it('the fleet table: counters, a phase change arriving live without reload, filter and sort', async () => {
    const { page, context, cspErrors } = await signedIn();
    expect(await rowOf(page, 'coach').getByTestId('grade').textContent()).toBe('A');
    expect(await rowOf(page, 'writer').getByTestId('phase').textContent()).toBe('Degraded');
    expect(await page.getByTestId('grade-count-A').textContent()).toContain('1');
    await expect.poll(() => page.getByTestId('stream-state').textContent()).toContain('Live');
    await expect.poll(async () => page.getByTestId('connection-count-healthy').textContent()).toContain('1');

    // A phase change: the writer turns unhealthy; the row follows from the event stream, the page never reloads.
    await page.evaluate('window.marker = 42');
    const writer = agents.get('writer')!;
    const changed = Date.now();
    writer.report = () => unhealthy('writer');
    await expect
      .poll(() => rowOf(page, 'writer').getByTestId('phase').textContent(), { timeout: 30_000 })
      .toBe('Unhealthy');
    recordFigures('dashboard', {
      suite: 'dashboard: a phase change reaching the fleet table (event stream, no reload, no polling)',
      cases: 1,
      'ms from the changed report to the row (includes the wait for the next 1 s heartbeat)': Date.now() - changed,
    });
    expect(await page.evaluate('window.marker')).toBe(42);

    // Filter by namespace, then search; sort by score both ways.
    await page.getByLabel('Namespace').selectOption('team-b');
    expect(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-agent')))).toEqual(
      ['team-b/scout'],
    );
    await page.getByLabel('Namespace').selectOption('');
    await page.getByLabel('Search').fill('coa');
    expect(await page.locator('tbody tr').count()).toBe(1);
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Phase').selectOption('Unhealthy');
    expect(await page.locator('tbody tr').count()).toBe(2);
    await page.getByLabel('Phase').selectOption('');
    const scores = () => page.getByTestId('score').allTextContents();
    await page.getByRole('button', { name: 'Score', exact: true }).click();
    const ascending = (await scores()).map(Number);
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.getByRole('button', { name: 'Score', exact: true }).click();
    expect((await scores()).map(Number)).toEqual([...ascending].reverse());

    // Keyboard: the sort buttons are reachable with Tab and work with Enter.
    await page.getByRole('button', { name: 'Name', exact: true }).focus();
    await page.keyboard.press('Enter');
    expect(await page.locator('th[aria-sort]').getAttribute('aria-sort')).toBe('ascending');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toContain('Phase');
    expect(cspErrors).toEqual([]);
    await context.close();
  });

  it('the agent view: health checks, violations, the score history chart, instances and probe now', async () => {
    const { page, context, cspErrors } = await signedIn();
    await page.getByRole('link', { name: 'coach' }).click();
    await page.getByTestId('history-chart').locator('canvas').waitFor();
    expect(await page.getByTestId('history-summary').textContent()).toMatch(/\d+ scored heartbeats; lowest \d+/);
    expect(await page.getByTestId('checks-table').textContent()).toContain('env:REGION');
    expect(await page.getByTestId('instances-table').textContent()).toContain('coach-1');
    await page.getByRole('button', { name: 'Probe now' }).click();
    await expect
      .poll(() => page.getByTestId('probe-status').textContent(), { timeout: 30_000 })
      .toContain('live report');

    await page.goto(`${cp.url}/#/agents/team-b/scout`);
    await page.getByRole('heading', { name: /scout/ }).waitFor();
    expect(await page.locator('.violations').textContent()).toContain('MODEL-01');
    expect(await page.getByTestId('checks-table').textContent()).toContain('Set OPENAI_API_KEY');
    expect(cspErrors).toEqual([]);
    await context.close();
  });

  it('screenshots at 1280 and 390 px, light and dark; an axe-core scan of both views finds no serious violation', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [1280, 390]) {
        const { page, context } = await signedIn({ width, colorScheme });
        await expect.poll(() => page.getByTestId('stream-state').textContent()).toContain('Live');
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(shots, `fleet-${width}-${colorScheme}.png`), fullPage: true });
        expect(await axeSerious(page), `fleet view ${width} px ${colorScheme}`).toEqual([]);
        await page.goto(`${cp.url}/#/agents/team-a/coach`);
        await page.getByTestId('history-chart').locator('canvas').waitFor();
        expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(shots, `agent-${width}-${colorScheme}.png`), fullPage: true });
        expect(await axeSerious(page), `agent view ${width} px ${colorScheme}`).toEqual([]);
        await context.close();
      }
    }
  }, 120_000);

  it('a control-plane restart: the indicator says Reconnecting…, then Live, and changes made meanwhile arrive', async () => {
    const { page, context } = await signedIn();
    await expect.poll(() => page.getByTestId('stream-state').textContent()).toContain('Live');
    await page.evaluate('window.marker = 7');
    const port = Number(new URL(cp.url).port);
    await cp.stop();
    await expect
      .poll(() => page.getByTestId('stream-state').textContent(), { timeout: 30_000 })
      .toContain('Reconnecting');
    const coach = agents.get('coach')!;
    coach.report = () => degraded('coach'); // taken by the restarted control plane
    cp = await startControlPlaneProcess({ databaseUrl, port, env: { AGENTSPEC_REAPER_INTERVAL_SECONDS: '1' } });
    await expect.poll(() => page.getByTestId('stream-state').textContent(), { timeout: 60_000 }).toContain('Live');
    await expect
      .poll(() => rowOf(page, 'coach').getByTestId('phase').textContent(), { timeout: 60_000 })
      .toBe('Degraded');
    expect(await page.evaluate('window.marker')).toBe(7); // no reload
    await context.close();
  }, 150_000);

  it('an instance going offline: the row turns Offline without reload', async () => {
    const { page, context } = await signedIn();
    expect(await rowOf(page, 'scout').getByTestId('phase').textContent()).not.toBe('Offline');
    agents.get('scout')!.registration.stop();
    await expect
      .poll(() => rowOf(page, 'scout').getByTestId('connection').textContent(), { timeout: 60_000 })
      .toBe('offline');
    expect(await rowOf(page, 'scout').getByTestId('phase').textContent()).toBe('Offline');
    await context.close();
  }, 90_000);
});
