import { ConflictException, HttpException, HttpStatus, NotFoundException } from '@nestjs/common';
import { plainToInstance, Type } from 'class-transformer';
import { IsArray, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateNested, ValidationError, validateSync } from 'class-validator';
import { errorCodes } from 'fastify';
import { connect } from 'node:net';
import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';
import { ArmError } from './arm-error';
import { isDependencyUnavailable, toArmError, validationErrorsToArmError } from './error-mapping';

const PROVIDER_PATH = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/nonsense';

// The shape Nest's HttpException exposes, without Nest.
const httpLike = (status: number, message = 'Http Exception'): { getStatus(): number; message: string } => ({
  getStatus: () => status,
  message,
});

function mapped(err: unknown, path?: string): ArmError {
  const result = toArmError(err, path);
  if (result === undefined) throw new Error('expected an ArmError, got undefined');
  return result;
}

describe('toArmError', () => {
  const sut = toArmError;

  it('returns an ArmError unchanged', () => {
    const error = ArmError.conflict('OperationNotAllowed', 'Busy.');

    expect(sut(error)).toBe(error);
  });

  describe('malformed request bodies', () => {
    it('maps a JSON SyntaxError to 400 InvalidRequestContent', () => {
      let parseError: unknown;
      try {
        JSON.parse('{"location": ');
      } catch (err) {
        parseError = err;
      }

      const result = mapped(parseError);

      expect(result.status).toBe(400);
      expect(result.code).toBe('InvalidRequestContent');
      expect(result.message).toContain('could not be deserialized');
    });

    it('maps a SyntaxError that fastify tagged with a status to 400 InvalidRequestContent', () => {
      const error = Object.assign(new SyntaxError('Unexpected end of JSON input'), { statusCode: 400 });

      const result = mapped(error);

      expect(result.status).toBe(400);
      expect(result.code).toBe('InvalidRequestContent');
    });

    it.each(['FST_ERR_CTP_EMPTY_JSON_BODY', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'] as const)(
      "maps fastify's %s to 400 InvalidRequestContent",
      (code) => {
        const result = mapped(new errorCodes[code]());

        expect(result.status).toBe(400);
        expect(result.code).toBe('InvalidRequestContent');
      },
    );

    it('maps an FST_ERR_CTP error to InvalidRequestContent even when it carries another 4xx status', () => {
      const result = mapped({ statusCode: 422, code: 'FST_ERR_CTP_SOMETHING_NEW', message: 'odd body' });

      expect(result.status).toBe(400);
      expect(result.code).toBe('InvalidRequestContent');
    });

    it("maps fastify's unsupported media type to 415", () => {
      const result = mapped(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE());

      expect(result.status).toBe(415);
      expect(result.code).toBe('UnsupportedMediaType');
    });

    it("maps fastify's body-too-large to 413", () => {
      const result = mapped(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());

      expect(result.status).toBe(413);
      expect(result.code).toBe('RequestContentTooLarge');
      expect(result.message).toBe('The request content size exceeds the maximum size of 4 MB.');
    });
  });

  describe('unknown routes', () => {
    it('maps a Nest 404 on a /providers/ path to InvalidResourceType', () => {
      const result = mapped(new NotFoundException('Cannot GET'), `${PROVIDER_PATH}?api-version=2026-10-01`);

      expect(result.status).toBe(404);
      expect(result.code).toBe('InvalidResourceType');
    });

    it('names the path without its query string', () => {
      const result = mapped(httpLike(404), `${PROVIDER_PATH}?api-version=2026-10-01`);

      expect(result.message).toContain(`'${PROVIDER_PATH}'`);
      expect(result.message).not.toContain('api-version');
    });

    it('recognises the providers segment in any casing', () => {
      expect(mapped(httpLike(404), '/subscriptions/s/PROVIDERS/Microsoft.Foo/bars').code).toBe('InvalidResourceType');
    });

    it('maps a 404 outside /providers/ to NotFound', () => {
      const result = mapped(httpLike(404), '/healthz/nope');

      expect(result.status).toBe(404);
      expect(result.code).toBe('NotFound');
    });

    it('maps a 405 to MethodNotAllowed', () => {
      const result = mapped(httpLike(405), PROVIDER_PATH);

      expect(result.status).toBe(405);
      expect(result.code).toBe('MethodNotAllowed');
    });
  });

  describe('other client errors (R4.4)', () => {
    it('maps a 409 HttpException to the generic Conflict code, not BadRequest', () => {
      const result = mapped(new ConflictException('already exists'));

      expect(result.status).toBe(409);
      expect(result.code).toBe('Conflict');
    });

    it('maps a 429 HttpException to TooManyRequests, not BadRequest', () => {
      const result = mapped(new HttpException('slow down', HttpStatus.TOO_MANY_REQUESTS));

      expect(result.status).toBe(429);
      expect(result.code).toBe('TooManyRequests');
    });
  });

  describe('unexpected errors', () => {
    it.each<[string, unknown]>([
      ['a plain Error', new Error('boom')],
      ['a TypeError', new TypeError('x is undefined')],
      ['a thrown string', 'boom'],
      ['null', null],
      ['undefined', undefined],
      ['a 500 HttpException', new HttpException('db down', 500)],
      ['a 503 Nest-like error', httpLike(503)],
      ['a fastify 500 error', new errorCodes.FST_ERR_CTP_ALREADY_PRESENT('application/json')],
    ])('returns undefined for %s so the caller answers InternalServerError', (_label, err) => {
      expect(sut(err, PROVIDER_PATH)).toBeUndefined();
    });
  });

  describe('a dependency that is briefly away', () => {
    // What node-postgres and TypeORM throw, built with their own classes.
    const pgError = (code: string, message: string): DatabaseError => Object.assign(new DatabaseError(message, 0, 'error'), { code });
    const queryFailed = (code: string, message: string): QueryFailedError => new QueryFailedError('SELECT 1', [], pgError(code, message));

    it('maps a refused connection (a real connect to a closed port) to 503 ServiceUnavailable', async () => {
      const refused = await new Promise<unknown>((res) => {
        const socket = connect({ host: '127.0.0.1', port: 1 });
        socket.once('error', res);
      });

      const result = mapped(refused);

      expect(result.status).toBe(503);
      expect(result.code).toBe('ServiceUnavailable');
    });

    it.each<[string, unknown]>([
      ['a query cut by an immediate shutdown (57P01)', queryFailed('57P01', 'terminating connection due to administrator command')],
      ['a connect to a starting server (57P03)', pgError('57P03', 'the database system is starting up')],
      ['a lost connection (08006)', queryFailed('08006', 'connection failure')],
      ['a connection that ended under a query', new Error('Connection terminated unexpectedly')],
      ['a connect that timed out in the pool', new Error('timeout exceeded when trying to connect')],
      ['Redis gone under a command', new Error('Connection is closed.')],
      ['a refusal wrapped as a cause', new Error('could not load', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })],
      ['an AggregateError of refusals', new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1'), { code: 'ECONNREFUSED' })])],
    ])('maps %s to 503 ServiceUnavailable', (_label, err) => {
      expect(mapped(err).status).toBe(503);
      expect(isDependencyUnavailable(err)).toBe(true);
    });

    it.each<[string, unknown]>([
      ['a unique violation', queryFailed('23505', 'duplicate key value violates unique constraint')],
      ['a syntax error in our SQL', queryFailed('42601', 'syntax error at or near "SELEC"')],
      ['a missing file', Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT', syscall: 'open' })],
    ])('keeps %s a 500 (our bug, not an outage)', (_label, err) => {
      expect(sut(err)).toBeUndefined();
      expect(isDependencyUnavailable(err)).toBe(false);
    });
  });
});

class AgentPoolProfileDto {
  @IsString()
  @Matches(/^[a-z][a-z0-9]{0,11}$/)
  name!: string;

  @IsInt()
  @Min(1)
  @Max(1000)
  count!: number;
}

class NetworkProfileDto {
  @IsString()
  @Matches(/^\d+\.\d+\.\d+\.\d+\/\d+$/)
  podCidr!: string;
}

class ClusterPropertiesDto {
  @IsString()
  dnsPrefix!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => AgentPoolProfileDto)
  agentPoolProfiles!: AgentPoolProfileDto[];

  @IsOptional()
  @ValidateNested()
  @Type(() => NetworkProfileDto)
  networkProfile?: NetworkProfileDto;
}

class PutClusterDto {
  @IsString()
  location!: string;

  @ValidateNested()
  @Type(() => ClusterPropertiesDto)
  properties!: ClusterPropertiesDto;
}

interface PoolBody {
  name: unknown;
  count: unknown;
}

const pool = (overrides: Partial<PoolBody> = {}): PoolBody => ({ name: 'nodepool1', count: 3, ...overrides });

const clusterBody = (properties: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> => ({
  location: 'westus',
  properties: { dnsPrefix: 'c1', agentPoolProfiles: [pool()], ...properties },
  ...top,
});

const validate = (body: Record<string, unknown>): ValidationError[] =>
  validateSync(plainToInstance(PutClusterDto, body), { whitelist: true, forbidNonWhitelisted: true });

describe('validationErrorsToArmError', () => {
  const sut = validationErrorsToArmError;

  it('has nothing to map for a valid body', () => {
    expect(validate(clusterBody())).toEqual([]);
  });

  it('maps a nested array error to 400 InvalidParameter targeting the property path', () => {
    const error = sut(validate(clusterBody({ agentPoolProfiles: [pool({ count: 0 })] })));

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidParameter');
    expect(error.target).toBe('properties.agentPoolProfiles[0].count');
  });

  it('names the full property path in the message', () => {
    const error = sut(validate(clusterBody({ agentPoolProfiles: [pool({ count: 0 })] })));

    expect(error.message).toBe('properties.agentPoolProfiles[0].count must not be less than 1');
  });

  it('uses the index of the pool that failed', () => {
    const error = sut(validate(clusterBody({ agentPoolProfiles: [pool(), pool({ name: 'pool2', count: 5000 })] })));

    expect(error.target).toBe('properties.agentPoolProfiles[1].count');
  });

  it('leaves details out when there is a single failure', () => {
    const error = sut(validate(clusterBody({ agentPoolProfiles: [pool({ count: 0 })] })));

    expect(error.details).toBeUndefined();
    expect(error.toBody().error).not.toHaveProperty('details');
  });

  it('targets the first failure and lists every failure in details', () => {
    const error = sut(validate(clusterBody({ agentPoolProfiles: [pool({ count: 0 }), pool({ name: 'Bad-Name' })] }, { location: 7 })));

    expect(error.target).toBe('location');
    expect(error.details?.map((d) => d.target)).toEqual(['location', 'properties.agentPoolProfiles[0].count', 'properties.agentPoolProfiles[1].name']);
    expect(error.details?.every((d) => d.code === 'InvalidParameter')).toBe(true);
  });

  it('gives one detail per failed constraint on the same property', () => {
    const error = sut(validate(clusterBody({ agentPoolProfiles: [pool({ count: 'three' })] })));

    const targets = error.details?.map((d) => d.target) ?? [];
    expect(targets.length).toBeGreaterThan(1);
    expect(new Set(targets)).toEqual(new Set(['properties.agentPoolProfiles[0].count']));
  });

  it('maps a nested object error to a dotted path', () => {
    const error = sut(validate(clusterBody({ networkProfile: { podCidr: 'not-a-cidr' } })));

    expect(error.target).toBe('properties.networkProfile.podCidr');
  });

  it('targets the array itself when it is not an array', () => {
    const error = sut(validate(clusterBody({ agentPoolProfiles: 'nodepool1' })));

    expect(error.target).toBe('properties.agentPoolProfiles');
  });

  it('targets a property the DTO does not allow', () => {
    const error = sut(validate(clusterBody({ bogus: true })));

    expect(error.target).toBe('properties.bogus');
  });

  it('prefixes paths with the root it is given', () => {
    const errors = validateSync(plainToInstance(ClusterPropertiesDto, { dnsPrefix: 'c1', agentPoolProfiles: [pool({ count: 0 })] }));

    const error = sut(errors, 'properties');

    expect(error.target).toBe('properties.agentPoolProfiles[0].count');
    expect(error.message).toBe('properties.agentPoolProfiles[0].count must not be less than 1');
  });

  it('still answers InvalidParameter when given no errors', () => {
    const error = sut([]);

    expect(error.status).toBe(400);
    expect(error.code).toBe('InvalidParameter');
    expect(error.target).toBeUndefined();
    expect(error.message.length).toBeGreaterThan(0);
  });
});
