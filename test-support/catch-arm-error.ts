import { ArmError } from '@cerulean/arm';

/** Runs `fn` and returns the ArmError it throws; fails when it throws something else or nothing. */
export function catchArmError(fn: () => unknown): ArmError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ArmError) return err;
    throw err;
  }
  throw new Error('expected an ArmError, but nothing was thrown');
}
