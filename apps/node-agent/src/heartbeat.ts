import * as http from 'node:http';
import { text as readText } from 'node:stream/consumers';
import type { NodeAgentStatus } from '@cerulean/node-provider';
import { CONTROL_PLANE_ALIAS, CONTROL_PLANE_HEARTBEAT_PORT, HEARTBEAT_INTERVAL_MS } from './control-plane';

export const DEFAULT_CONTROL_PLANE_URL = `http://${CONTROL_PLANE_ALIAS}:${CONTROL_PLANE_HEARTBEAT_PORT}`;
const REQUEST_TIMEOUT_MS = 2_000;

function send(base: string, method: 'PUT' | 'DELETE', name: string, body?: string): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(
      `${base}/nodes/${encodeURIComponent(name)}`,
      { method, timeout: REQUEST_TIMEOUT_MS, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) =>
        readText(res).then(
          () => resolve(),
          () => resolve(),
        ),
    );
    // No control plane (yet, or being replaced): the next beat tries again.
    req.on('error', () => resolve());
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

/**
 * Reports the node's status to its cluster's control plane now and every interval, like kubelet posting
 * node status. `stop()` says goodbye so the node leaves the NodeList at once.
 */
export function startHeartbeat(options: { url: string; status: () => NodeAgentStatus; intervalMs?: number }): { stop: () => Promise<void> } {
  const beat = () => {
    const status = options.status();
    return send(options.url, 'PUT', status.name, JSON.stringify(status));
  };
  void beat();
  const timer = setInterval(() => void beat(), options.intervalMs ?? HEARTBEAT_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await send(options.url, 'DELETE', options.status().name);
    },
  };
}
