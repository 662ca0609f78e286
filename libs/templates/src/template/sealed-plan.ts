import { TemplatePlan } from './processor';

/** Authenticated encryption of a string bound to a context (libs/pki's SecretBox has this shape). */
export interface PlanSealer {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

/** How a plan is stored while its deployment runs: encrypted as a whole (it holds secure parameter values). */
export interface SealedPlan {
  sealed: string;
}

const contextOf = (deploymentId: string) => `deployment-plan:${deploymentId}`;

export const isSealedPlan = (stored: unknown): stored is SealedPlan =>
  typeof stored === 'object' && stored !== null && typeof (stored as { sealed?: unknown }).sealed === 'string';

/**
 * The plan as it may be written to the database: secure parameter values, the variables made from them and the
 * resource bodies that embed them are all inside the ciphertext. Bound to the deployment, so a copied row does not open.
 */
export function sealPlan(plan: TemplatePlan, box: PlanSealer, deploymentId: string): SealedPlan {
  return { sealed: box.seal(JSON.stringify(plan), contextOf(deploymentId)) };
}

/** The plan of a stored row (sealed; an unsealed plan written before sealing existed is read as it is). */
export function openPlan(stored: unknown, box: PlanSealer, deploymentId: string): TemplatePlan {
  if (!isSealedPlan(stored)) return stored as TemplatePlan;
  return JSON.parse(box.open(stored.sealed, contextOf(deploymentId))) as TemplatePlan;
}
