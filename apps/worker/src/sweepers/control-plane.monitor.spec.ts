import { controlPlaneProblem } from './control-plane.monitor';

describe('controlPlaneProblem', () => {
  it('leaves a running control plane alone', () => {
    expect(controlPlaneProblem({ state: 'running' })).toBeUndefined();
  });

  it("leaves one Docker's restart policy is bringing back alone", () => {
    expect(controlPlaneProblem({ state: 'restarting' })).toBeUndefined();
  });

  it('finds a missing control plane', () => {
    expect(controlPlaneProblem(undefined)).toBe('the control plane container does not exist');
  });

  it.each(['exited', 'created', 'paused', 'dead', 'removing'] as const)('finds one that is %s', (state) => {
    expect(controlPlaneProblem({ state })).toBe(`the control plane container is ${state}`);
  });
});
