/** "12 s ago", "5 min ago", "3 h ago", "2 d ago" (the exact time goes in a title). */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

export const agentPath = (namespace: string, name: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/agents/${encodeURIComponent(name)}`;

export const agentHash = (namespace: string, name: string): string =>
  `#/agents/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;
