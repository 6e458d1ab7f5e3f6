/** How to ask a provider whether a key works: its "list models" endpoint and the header that carries the key. */
export interface ModelEndpoint {
  url: string;
  headers: (key: string) => Record<string, string>;
}

const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

export const MODEL_ENDPOINTS: Record<string, ModelEndpoint> = {
  openai: { url: 'https://api.openai.com/v1/models', headers: bearer },
  anthropic: {
    url: 'https://api.anthropic.com/v1/models',
    headers: (key) => ({ 'x-api-key': key, 'anthropic-version': '2023-06-01' }),
  },
  groq: { url: 'https://api.groq.com/openai/v1/models', headers: bearer },
  mistral: { url: 'https://api.mistral.ai/v1/models', headers: bearer },
  together: { url: 'https://api.together.xyz/v1/models', headers: bearer },
  deepseek: { url: 'https://api.deepseek.com/models', headers: bearer },
  openrouter: { url: 'https://openrouter.ai/api/v1/models', headers: bearer },
  xai: { url: 'https://api.x.ai/v1/models', headers: bearer },
  google: {
    url: 'https://generativelanguage.googleapis.com/v1beta/models',
    headers: (key) => ({ 'x-goog-api-key': key }),
  },
  gemini: {
    url: 'https://generativelanguage.googleapis.com/v1beta/models',
    headers: (key) => ({ 'x-goog-api-key': key }),
  },
};

export function modelEndpointEnvName(provider: string): string {
  return `AGENTSPEC_MODEL_ENDPOINT_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * The endpoint for a provider: `AGENTSPEC_MODEL_ENDPOINT_<PROVIDER>` (a URL, for gateways, proxies and
 * self-hosted providers; the key goes in a Bearer header unless the provider is known) or the built-in one.
 */
export function modelEndpointFor(provider: string, env: NodeJS.ProcessEnv): ModelEndpoint | undefined {
  const known = MODEL_ENDPOINTS[provider.toLowerCase()];
  const override = env[modelEndpointEnvName(provider)];
  if (override) return { url: override, headers: known?.headers ?? bearer };
  return known;
}
