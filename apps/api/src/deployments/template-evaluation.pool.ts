import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ArmError, ArmErrorDetail } from '@cerulean/arm';
import { DeploymentContext, Json, JsonObject, TemplateErrors, TemplatePlan, timeExceeded } from '@cerulean/templates';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';

export interface EvaluationRequest {
  id: number;
  template: JsonObject;
  parameters: Json | undefined;
  context: DeploymentContext;
  deadline: { at: number; seconds: number };
  /** Also answer the resource body values made from secure values (what-if masks them). */
  collectSecure: boolean;
}

/** A processed template; `secureValues` only when asked for, and never to be stored. */
export interface Evaluated {
  plan: TemplatePlan;
  secureValues: string[];
}

export type EvaluationReply =
  { id: number; plan: TemplatePlan; secureValues: string[] } | { id: number; error: ArmErrorDetail & { status: number } } | { id: number; crash: string };

/** How long one template may take to evaluate (validate, what-if and PUT each evaluate it once per template). */
export const EVALUATION_SECONDS = 10;
/** A thread that has not answered this long after the deadline is stuck: it is terminated and replaced. */
const GRACE_MS = 2_000;
/** Evaluations waiting for a thread beyond this are refused (429): the pool is a bounded resource. */
const MAX_WAITING = 32;
/** A runaway allocation ends the thread, not the API. */
const THREAD_HEAP_MB = 512;

interface Job {
  request: EvaluationRequest;
  resolve(result: Evaluated): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
}

/**
 * Runs template processing (`processTemplate`) on a small pool of worker threads, so that evaluating a hostile or
 * merely large template never blocks the API's event loop for other callers. Each evaluation has a time budget:
 * the library stops itself at the deadline (InvalidTemplate), and a thread that does not answer shortly after is
 * terminated and replaced.
 */
@Injectable()
export class TemplateEvaluationPool implements OnModuleDestroy {
  private readonly logger = new Logger('TemplateEvaluationPool');
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closed = false;

  /** One thread per spare core, at most two: the event loop keeps a core of its own. */
  readonly size = Math.max(1, Math.min(2, availableParallelism() - 1));
  private readonly script = join(__dirname, 'template-evaluation.worker.js');

  /** processTemplate(template, parameters, context) off the event loop; rejects with the ArmError it throws. */
  process(
    template: JsonObject,
    parameters: Json | undefined,
    context: DeploymentContext,
    options: { collectSecure?: boolean; seconds?: number } = {},
  ): Promise<Evaluated> {
    const seconds = options.seconds ?? EVALUATION_SECONDS;
    if (this.closed) return Promise.reject(new Error('the template evaluation pool is closed'));
    if (this.waiting.length >= MAX_WAITING) {
      return Promise.reject(new ArmError(429, 'TooManyRequests', 'Too many template evaluations are waiting. Please retry the request later.'));
    }
    return new Promise<Evaluated>((resolve, reject) => {
      const request: EvaluationRequest = {
        id: this.nextId++,
        template,
        parameters,
        context,
        deadline: { at: 0, seconds },
        collectSecure: options.collectSecure === true,
      };
      this.waiting.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new Error('the template evaluation pool is closed'));
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.waiting.length > 0) {
      let slot = this.slots.find((s) => s.job === undefined);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.waiting.shift() as Job;
      // The deadline starts when a thread takes the job, not while it waits.
      const seconds = job.request.deadline.seconds;
      job.request.deadline = { at: Date.now() + seconds * 1000, seconds };
      slot.job = job;
      const busy = slot;
      slot.timer = setTimeout(() => this.stuck(busy), seconds * 1000 + GRACE_MS);
      slot.worker.postMessage(job.request);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.script, { resourceLimits: { maxOldGenerationSizeMb: THREAD_HEAP_MB } });
    const slot: Slot = { worker };
    worker.on('message', (reply: EvaluationReply) => this.answer(slot, reply));
    worker.on('error', (err) => this.lost(slot, err));
    worker.on('exit', (code) => this.lost(slot, new Error(`template evaluation thread exited with code ${code}`)));
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private answer(slot: Slot, reply: EvaluationReply): void {
    const job = slot.job;
    if (!job || job.request.id !== reply.id) return;
    this.release(slot);
    if ('plan' in reply) job.resolve({ plan: reply.plan, secureValues: reply.secureValues });
    else if ('error' in reply) job.reject(new ArmError(reply.error.status, reply.error.code, reply.error.message, reply.error.target, reply.error.details));
    else {
      this.logger.error(`template evaluation failed unexpectedly (${reply.crash})`);
      job.reject(ArmError.internal());
    }
    this.dispatch();
  }

  /** No answer well after the deadline: the thread is terminated (its job fails with the time-budget error). */
  private stuck(slot: Slot): void {
    const job = slot.job;
    this.remove(slot);
    void slot.worker.terminate();
    if (job) job.reject(TemplateErrors.validationFailed(timeExceeded(job.request.deadline.seconds).message));
    this.dispatch();
  }

  /** The thread died (out of memory, crash): its job fails, a new thread takes the next one. */
  private lost(slot: Slot, err: Error): void {
    if (!this.slots.includes(slot)) return;
    const job = slot.job;
    this.remove(slot);
    if (job) {
      this.logger.error(`template evaluation thread lost: ${err.message}`);
      const tooLarge = /out of memory|ERR_WORKER_OUT_OF_MEMORY/i.test(`${err.message} ${(err as NodeJS.ErrnoException).code ?? ''}`);
      job.reject(
        tooLarge
          ? TemplateErrors.validationFailed(
              'The template needs more memory to evaluate than this service allows. Simplify the template or split it into several deployments.',
            )
          : ArmError.internal(),
      );
    }
    if (!this.closed) this.dispatch();
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
  }

  private remove(slot: Slot): void {
    this.release(slot);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }
}
