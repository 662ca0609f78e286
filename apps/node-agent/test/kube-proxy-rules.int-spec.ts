import { spawnSync } from 'node:child_process';
import { existingChains, JUMP_RULES, jumpsSurelyMissing, renderRules, withJumps, type ProxyService } from '../src/proxy/rules';

// The real iptables (the nf_tables variant a node carries) in a network namespace of the test's own (`unshare -n`), so
// the host's rules are never touched.
function inOwnNetns(script: string, input = ''): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SERVICE: ProxyService = {
  metadata: { name: 'kubernetes', namespace: 'default' },
  spec: { type: 'ClusterIP', clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'], ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }] },
} as ProxyService;

describe('kube-proxy rules in a real iptables', () => {
  it("a new node's first restore carries the jump rules, each once, where iptables -C finds them", () => {
    // As on a node Docker made: its embedded DNS chain in nat, no filter table.
    const setup = 'iptables -t nat -N DOCKER_OUTPUT';
    const before = inOwnNetns(`${setup} && iptables-save`);
    expect(before.status).toBe(0);
    const jumps = jumpsSurelyMissing(before.stdout);
    expect(jumps).toEqual(JUMP_RULES);
    const { restore } = renderRules([SERVICE], [], { clusterCidr: '10.244.0.0/16' }, existingChains(before.stdout));
    const checks = JUMP_RULES.map((j) => `iptables -t ${j.table} -C ${j.chain} ${j.rule.map((a) => `'${a}'`).join(' ')}`).join(' && ');
    const after = inOwnNetns(`${setup} && iptables-restore --noflush && ${checks} && echo CHECKED && iptables-save`, withJumps(restore, jumps));
    expect(after.stderr).toBe('');
    expect(after.stdout).toContain('CHECKED');
    const save = after.stdout.slice(after.stdout.indexOf('CHECKED'));
    const table = (name: string) => {
      const from = save.indexOf(`*${name}\n`);
      return save.slice(from, save.indexOf('COMMIT', from)).split('\n');
    };
    for (const j of JUMP_RULES) {
      const target = j.rule[j.rule.indexOf('-j') + 1];
      const lines = table(j.table).filter((l) => l.startsWith(`-A ${j.chain} `) && l.endsWith(`-j ${target}`));
      expect(lines).toEqual([`-A ${j.chain} ${j.rule.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')}`]);
    }
    // Once they are in, nothing is surely missing any more: a restarted agent checks with iptables -C instead.
    expect(jumpsSurelyMissing(save)).toEqual([]);
  });
});
