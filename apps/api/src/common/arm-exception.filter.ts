import { ArmError, toArmError } from '@cerulean/arm';
import { Env } from '@cerulean/config';
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The one place that turns a thrown error into an ARM error response (R4.1/R4.2). */
@Catch()
export class ArmExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ArmExceptionFilter');

  constructor(private readonly env: Env) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = armErrorFor(exception, req, this.logger);
    // A dependency that is briefly away: every ARM client retries a 503 that says when (R14.1).
    if (error.status === 503) void reply.header('retry-after', String(this.env.RETRY_AFTER_SECONDS));
    void reply.status(error.status).header('content-type', 'application/json; charset=utf-8').send(error.toBody());
  }
}

export function armErrorFor(exception: unknown, req: FastifyRequest, logger: Pick<Logger, 'error' | 'warn'>): ArmError {
  const mapped = toArmError(exception, req.url);
  if (mapped?.status === 503) {
    logger.warn(
      `dependency unavailable correlationId=${req.arm?.correlationId} ${req.method} ${req.url}: ${String((mapped.cause as Error | undefined)?.message ?? mapped.message)}`,
    );
  }
  if (mapped) return mapped;
  logger.error(
    `unhandled error correlationId=${req.arm?.correlationId} requestId=${req.arm?.requestId} ${req.method} ${req.url}: ${
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)
    }`,
  );
  return ArmError.internal(`The server encountered an internal error (correlation id ${req.arm?.correlationId ?? 'n/a'}). Please retry the request.`);
}
