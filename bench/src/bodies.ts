/** A heartbeat body of about `bytes` bytes: a health report with enough checks, and a gap report with `score`. */
export function heartbeatBody(bytes: number, score: number): string {
  const checks = [];
  for (let i = 0; ; i++) {
    checks.push({
      id: `tool:tool-${i}`,
      category: 'tool',
      status: 'pass',
      severity: 'info',
      message: 'registered and answering',
    });
    const body = JSON.stringify({
      health: {
        agentName: 'bench',
        timestamp: '2026-11-23T00:00:00.000Z',
        status: 'healthy',
        summary: { passed: checks.length, failed: 0, warnings: 0, skipped: 0 },
        checks,
      },
      gap: { score, grade: 'A', violations: [], packs: [], suppressed: [], rulesChecked: 27 },
    });
    if (body.length >= bytes - 200) return body;
  }
}
