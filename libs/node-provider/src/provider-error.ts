/** The node provider's one error type: the Docker provider, the node agent client and the image builder all report it. */
export type ProviderErrorCode =
  | 'EngineUnavailable'
  | 'EngineError'
  | 'NotFound'
  | 'ImageNotFound'
  | 'NetworkNotFound'
  | 'Conflict'
  | 'InvalidSpec'
  | 'AgentUnavailable'
  | 'AgentNotReady'
  | 'AgentUnauthorized'
  | 'FirewallError'
  | 'AgentProtocol'
  | 'Unknown';

export interface ProviderErrorOptions {
  code: ProviderErrorCode;
  /** True when retrying later may succeed (engine down or overloaded, agent still booting). */
  transient: boolean;
  statusCode?: number;
  cause?: unknown;
}

/** Every failure the node provider (and the node agent client) reports. */
export class ProviderError extends Error {
  readonly code: ProviderErrorCode;
  readonly transient: boolean;
  readonly statusCode?: number;

  constructor(message: string, options: ProviderErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
    this.code = options.code;
    this.transient = options.transient;
    this.statusCode = options.statusCode;
  }

  /** Maps a dockerode error (HTTP status or socket error) to a ProviderError, keeping it as `cause`. */
  static fromDocker(err: unknown, action: string): ProviderError {
    if (err instanceof ProviderError) return err;
    const statusCode = dockerStatus(err);
    const reason = dockerMessage(err);
    const message = `${action}: ${reason}`;
    if (statusCode === undefined) {
      const sysCode = typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
      const unreachable = sysCode !== undefined && ENGINE_UNREACHABLE.has(sysCode);
      return new ProviderError(unreachable ? `${action}: Docker engine unreachable (${sysCode})` : message, {
        code: unreachable ? 'EngineUnavailable' : 'Unknown',
        transient: unreachable,
        cause: err,
      });
    }
    if (statusCode >= 500) return new ProviderError(message, { code: 'EngineError', transient: true, statusCode, cause: err });
    if (statusCode === 404) {
      const code = /no such image/i.test(reason) ? 'ImageNotFound' : /network .*not found/i.test(reason) ? 'NetworkNotFound' : 'NotFound';
      return new ProviderError(message, { code, transient: false, statusCode, cause: err });
    }
    if (statusCode === 409) return new ProviderError(message, { code: 'Conflict', transient: false, statusCode, cause: err });
    if (statusCode === 400) return new ProviderError(message, { code: 'InvalidSpec', transient: false, statusCode, cause: err });
    return new ProviderError(message, { code: 'Unknown', transient: false, statusCode, cause: err });
  }
}

const ENGINE_UNREACHABLE = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH']);

/** The HTTP status of a dockerode error, if it has one. */
export function dockerStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { statusCode?: unknown }).statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's own message of a dockerode error (its JSON body), else the error's text. */
export function dockerMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const json = (err as { json?: unknown }).json;
    if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
      return (json as { message: string }).message;
    }
  }
  return err instanceof Error ? err.message : String(err);
}
