from agentspec import load_manifest, run_audit

manifest = load_manifest("./agent.yaml").manifest
result = run_audit(manifest)
print(f"{manifest['metadata']['name']}: {result['score']}/100 ({result['grade']})")
for violation in result["violations"]:
    print(f"{violation['ruleId']} [{violation['severity']}] {violation['message']}")
