import type { AgentFields } from './schema.js';

/** Something a manifest is allowed to say (upstream's schema accepts it) but that will not do what it seems to. */
export interface ManifestWarning {
  /** Dotted path from the manifest's root, e.g. `spec.tools[2].name`. */
  field: string;
  message: string;
}

const blank = (value: string | undefined): boolean => value !== undefined && value.trim() === '';

/**
 * The judgements the schema leaves out where upstream's is lenient (issue #20): existing files load, and these say
 * what is wrong with them. Not scored, so a file's audit score stays upstream's. Pure; the Python SDK has the same
 * checks in the same order (`agentspec.audit.manifest_warnings`), compared by the shared test vectors.
 */
export function manifestWarnings(spec: AgentFields): ManifestWarning[] {
  const warnings: ManifestWarning[] = [];
  const warn = (field: string, message: string) => warnings.push({ field: `spec.${field}`, message });
  const empty = (field: string, value: string | undefined) => {
    if (blank(value)) warn(field, 'is empty');
  };

  const { model } = spec;
  empty('model.provider', model.provider);
  empty('model.id', model.id);
  empty('model.fallback.provider', model.fallback?.provider);
  empty('model.fallback.id', model.fallback?.id);
  const cost = model.costControls;
  if (cost?.alertAtUSD !== undefined && cost.maxMonthlyUSD !== undefined && cost.alertAtUSD > cost.maxMonthlyUSD) {
    warn(
      'model.costControls.alertAtUSD',
      `${cost.alertAtUSD} is above maxMonthlyUSD (${cost.maxMonthlyUSD}): the limit is reached before the alert`,
    );
  }
  spec.prompts.variables?.forEach((v, i) => empty(`prompts.variables[${i}].name`, v.name));

  const firstTool = new Map<string, number>();
  spec.tools?.forEach((tool, i) => {
    const first = firstTool.get(tool.name);
    if (first === undefined) firstTool.set(tool.name, i);
    else
      warn(`tools[${i}].name`, `"${tool.name}" is also the name of spec.tools[${first}]: tools are told apart by name`);
  });

  spec.mcp?.servers?.forEach((server, i) => {
    empty(`mcp.servers[${i}].name`, server.name);
    if (server.transport === 'stdio' && server.command === undefined) {
      warn(`mcp.servers[${i}].command`, 'a stdio MCP server has no command: nothing can start it');
    }
    if (server.transport !== 'stdio' && server.url === undefined) {
      warn(`mcp.servers[${i}].url`, `an ${server.transport} MCP server has no url: nothing can reach it`);
    }
  });

  spec.subagents?.forEach((subagent, i) => {
    empty(`subagents[${i}].name`, subagent.name);
    if (subagent.ref.agentspec !== undefined && subagent.ref.a2a !== undefined) {
      warn(`subagents[${i}].ref`, 'both agentspec and a2a are set: agentspec is used, a2a is ignored');
    }
  });
  spec.skills?.forEach((skill, i) => empty(`skills[${i}].id`, skill.id));

  const hitl = spec.humanInTheLoop;
  if (hitl?.notifyVia?.includes('webhook') && hitl.webhookUrl === undefined) {
    warn('humanInTheLoop.webhookUrl', 'notifyVia has webhook but there is no webhookUrl: nobody is notified there');
  }
  spec.evaluation?.datasets?.forEach((d, i) => empty(`evaluation.datasets[${i}].name`, d.name));
  spec.compliance?.suppressions?.forEach((s, i) => empty(`compliance.suppressions[${i}].rule`, s.rule));
  return warnings;
}
