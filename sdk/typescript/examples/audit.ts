import { loadManifest, runAudit } from '@agentspec/sdk';

const { manifest } = loadManifest('./agent.yaml');
const { score, grade, violations } = runAudit(manifest);
console.log(`${manifest.metadata.name}: ${score}/100 (${grade})`);
for (const v of violations) console.log(`${v.ruleId} [${v.severity}] ${v.message}`);
