import { parentPort } from 'node:worker_threads';
import { ArmError } from '@cerulean/arm';
import { processTemplate, secureStrings } from '@cerulean/templates';
import type { EvaluationReply, EvaluationRequest } from './template-evaluation.pool';

// A worker thread of TemplateEvaluationPool: template processing is synchronous CPU work, so it runs here and not on
// the API's event loop. Only the pure template library is loaded.
const port = parentPort;
if (!port) throw new Error('template-evaluation.worker must run as a worker thread');

port.on('message', (request: EvaluationRequest) => {
  let reply: EvaluationReply;
  try {
    const secure = new Set<string>();
    const plan = processTemplate(request.template, request.parameters, request.context, {
      deadline: request.deadline,
      ...(request.collectSecure ? { onSecureValue: (v) => secureStrings(v, secure) } : {}),
    });
    reply = { id: request.id, plan, secureValues: [...secure] };
  } catch (err) {
    reply =
      err instanceof ArmError
        ? { id: request.id, error: { status: err.status, ...err.toDetail() } }
        : // Only the kind of failure leaves the thread: the message could quote template values.
          { id: request.id, crash: err instanceof Error ? err.name : 'unknown' };
  }
  port.postMessage(reply);
});
