import { describe, expect, it } from 'vitest';
import { parseManifest } from './load.js';
import { manifestWarnings } from './warnings.js';

const manifest = (spec: Record<string, unknown>) =>
  parseManifest({
    apiVersion: 'agentspec.io/v1',
    kind: 'AgentSpec',
    metadata: { name: 'a', version: '1.0.0', description: 'd' },
    spec: { model: { provider: 'openai', id: 'gpt-4o' }, prompts: { system: 's' }, ...spec },
  }).manifest;

const fields = (spec: Record<string, unknown>) => manifestWarnings(manifest(spec).spec).map((w) => w.field);

describe('manifest warnings (what upstream accepts and only describes, issue #20)', () => {
  it('are empty for a manifest that says nothing odd', () => {
    expect(manifestWarnings(manifest({}).spec)).toEqual([]);
  });

  it('name an alert above the monthly limit, and not one at or below it', () => {
    expect(fields({ model: { provider: 'a', id: 'b', costControls: { maxMonthlyUSD: 10, alertAtUSD: 11 } } })).toEqual([
      'spec.model.costControls.alertAtUSD',
    ]);
    expect(fields({ model: { provider: 'a', id: 'b', costControls: { maxMonthlyUSD: 10, alertAtUSD: 10 } } })).toEqual(
      [],
    );
  });

  it('name the second of two tools with one name, pointing at the first', () => {
    const tool = { name: 'search', type: 'builtin' };
    const [warning] = manifestWarnings(manifest({ tools: [tool, { name: 'x', type: 'builtin' }, tool] }).spec);
    expect(warning).toEqual({
      field: 'spec.tools[2].name',
      message: '"search" is also the name of spec.tools[0]: tools are told apart by name',
    });
  });

  it('name MCP servers that nothing can start or reach', () => {
    const servers = [
      { name: 'a', transport: 'stdio' },
      { name: 'b', transport: 'http' },
      { name: 'c', transport: 'stdio', command: 'npx' },
      { name: 'd', transport: 'sse', url: 'https://mcp.example.com' },
    ];
    expect(fields({ mcp: { servers } })).toEqual(['spec.mcp.servers[0].command', 'spec.mcp.servers[1].url']);
  });

  it('name blank names, a subagent with both refs and a webhook channel without its URL', () => {
    expect(
      fields({
        model: { provider: ' ', id: 'b' },
        subagents: [{ name: '', ref: { agentspec: './s.yaml', a2a: { url: 'https://s.example.com' } } }],
        humanInTheLoop: { notifyVia: ['webhook'] },
      }),
    ).toEqual([
      'spec.model.provider',
      'spec.subagents[0].name',
      'spec.subagents[0].ref',
      'spec.humanInTheLoop.webhookUrl',
    ]);
  });

  it('accept a session-scoped conversation memory (ttlSeconds 0) without a warning', () => {
    expect(fields({ memory: { shortTerm: { backend: 'in-memory', ttlSeconds: 0 } } })).toEqual([]);
  });
});
