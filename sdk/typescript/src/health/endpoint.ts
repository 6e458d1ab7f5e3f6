/** host and port of a connection string ("redis://u:p@host:6379/0", "postgres://...", "host:port"). */
export interface Endpoint {
  host: string;
  port: number;
  /** The full URL when the connection string was one. */
  url?: URL;
}

const DEFAULT_PORTS: Record<string, number> = {
  postgres: 5432,
  postgresql: 5432,
  redis: 6379,
  rediss: 6379,
  mysql: 3306,
  mongodb: 27017,
  elasticsearch: 9200,
  http: 80,
  https: 443,
};

/** Parses a connection string; `kind` supplies the default port. Undefined when there is no network address. */
export function parseEndpoint(connection: string, kind: string): Endpoint | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(connection)) {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      return undefined;
    }
    const scheme = url.protocol.replace(/:$/, '').split('+')[0] ?? '';
    const port = url.port ? Number(url.port) : (DEFAULT_PORTS[scheme] ?? DEFAULT_PORTS[kind]);
    if (!url.hostname || port === undefined) return undefined;
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port, url };
  }
  const match = /^\[?([^\]\s/]+?)\]?:(\d{1,5})$/.exec(connection.trim());
  if (match?.[1] && match[2]) return { host: match[1], port: Number(match[2]) };
  const port = DEFAULT_PORTS[kind];
  if (/^[a-z0-9.-]+$/i.test(connection.trim()) && port !== undefined) return { host: connection.trim(), port };
  return undefined;
}
