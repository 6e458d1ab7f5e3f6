import type { Request, RequestHandler } from 'express';
import { DNS_LABEL, findJsonProblem, formatPath, textProblem } from '@agentspec/sdk';
import { ApiError } from './api-error.js';

/**
 * What express, body-parser and the router throw for a request the client got wrong, as the API's 4xx. Anything
 * that is not recognised here is a server error.
 */
export function clientErrorOf(err: unknown, maxBodyBytes: number): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; charset?: string; message?: string };
  switch (e.type) {
    case 'entity.too.large':
      return new ApiError(413, 'PayloadTooLarge', `request bodies are limited to ${maxBodyBytes} bytes`);
    case 'entity.parse.failed':
      return new ApiError(400, 'InvalidJson', 'the body is not valid JSON');
    case 'charset.unsupported':
      return new ApiError(
        415,
        'UnsupportedMediaType',
        `content-type: charset "${e.charset ?? ''}" is not supported; send UTF-8 JSON`,
        'content-type',
      );
    case 'encoding.unsupported':
      return new ApiError(
        415,
        'UnsupportedMediaType',
        'content-encoding: not supported; send identity, gzip, deflate or br',
        'content-encoding',
      );
    case 'request.aborted':
    case 'request.size.invalid':
      return new ApiError(400, 'InvalidBody', 'the body ended before its declared length');
  }
  if (err instanceof URIError) return new ApiError(400, 'InvalidPath', 'the path has a malformed percent-escape');
  const status = e.status ?? e.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ApiError(status, 'BadRequest', status === 400 ? 'malformed request' : (e.message ?? 'bad request'));
  }
  return undefined;
}

/** 400 naming the field when a JSON body holds what cannot be stored: NUL, lone surrogates, nesting past the limit. */
export const rejectUnsafeJson: RequestHandler = (req, _res, next) => {
  const problem = findJsonProblem(req.body);
  if (!problem) return next();
  const field = formatPath(problem.path) || 'body';
  next(new ApiError(400, 'InvalidBody', `${field}: ${problem.message}`, field));
};

/** An RFC 1123 label: what namespaces and agent names are. */
export const isLabel = (value: string): boolean => value.length <= 63 && DNS_LABEL.test(value);

/** Path parameters that name namespaces and agents are RFC 1123 labels; anything else cannot exist. */
export const requireLabelParam = (
  req: Request,
  _res: unknown,
  next: (err?: unknown) => void,
  value: string,
  name: string,
): void => {
  if (isLabel(value)) return next();
  next(
    new ApiError(400, 'InvalidPath', `${name}: must be an RFC 1123 label (lowercase letters, digits and "-")`, name),
  );
};

/**
 * The query parameters of a route, strictly: an unknown, repeated or array-valued parameter is a 400 rather than a
 * filter silently dropped, and so is a value holding NUL or a lone surrogate.
 */
export function strictQuery<K extends string>(req: Request, allowed: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new ApiError(400, 'InvalidQuery', `${key}: unknown query parameter (expected ${allowed.join(', ')})`, key);
    }
    if (typeof value !== 'string') {
      throw new ApiError(400, 'InvalidQuery', `${key}: expected one value`, key);
    }
    const problem = textProblem(value);
    if (problem) throw new ApiError(400, 'InvalidQuery', `${key}: ${problem}`, key);
    out[key as K] = value;
  }
  return out;
}

/** A whole number written in plain decimal digits within [min, max], or a 400 naming the parameter. */
export function queryInt(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) {
    throw new ApiError(400, 'InvalidQuery', `${name}: expected a whole number from ${min} to ${max}`, name);
  }
  return value;
}
