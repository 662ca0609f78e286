import { useCallback, useEffect, useRef, useState } from 'react';
import { nextPollDelayMs } from './format';

export interface Polled<T> {
  data?: T;
  error?: Error;
  /** Ask for a fresh read now (after an action). */
  refresh: () => void;
}

/**
 * Runs `load` now and again after each answer: after the server's Retry-After when it gave one, otherwise
 * every `everyMs` (slower while the tab is hidden). One request at a time per panel; stops on unmount.
 */
export function usePoll<T>(load: () => Promise<{ value: T; retryAfter?: number }>, deps: unknown[], everyMs = 3000): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<Error>();
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback(
    async (gen: number) => {
      clearTimeout(timer.current);
      let retryAfter: number | undefined;
      try {
        const r = await loadRef.current();
        if (gen !== generation.current) return;
        retryAfter = r.retryAfter;
        setData(r.value);
        setError(undefined);
      } catch (err) {
        if (gen !== generation.current) return;
        setError(err instanceof Error ? err : new Error(String(err)));
      }
      timer.current = setTimeout(() => void run(gen), nextPollDelayMs(retryAfter, everyMs, document.hidden));
    },
    [everyMs],
  );

  useEffect(() => {
    generation.current += 1;
    setData(undefined);
    void run(generation.current);
    return () => {
      generation.current += 1;
      clearTimeout(timer.current);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  const refresh = useCallback(() => void run(generation.current), [run]);
  return { data, error, refresh };
}
