import { catchArmError } from '../../../../test-support/catch-arm-error';
import { changedNetworkProfile, checkNetworkProfile } from './network-profile-checks';

describe('checkNetworkProfile', () => {
  it('accepts AKS-shaped profiles: defaults left out, custom ranges, dual-stack lists', () => {
    expect(() => checkNetworkProfile(undefined)).not.toThrow();
    expect(() => checkNetworkProfile({ networkPlugin: 'kubenet' })).not.toThrow();
    expect(() => checkNetworkProfile({ podCidr: '10.244.0.0/16', serviceCidr: '10.2.0.0/16', dnsServiceIP: '10.2.0.10' })).not.toThrow();
    expect(() =>
      checkNetworkProfile({ podCidrs: ['10.244.0.0/16', 'fd12:3456:789a::/64'], serviceCidrs: ['10.0.0.0/16', 'fd12:3456:789a:1::/108'] }),
    ).not.toThrow();
  });

  it.each([
    [{ serviceCidr: '%252F' }, 'properties.networkProfile.serviceCidr', "The serviceCidr '%252F' is not a valid IPv4 CIDR"],
    [{ podCidr: '10.244.0.0' }, 'properties.networkProfile.podCidr', "The podCidr '10.244.0.0' is not a valid IPv4 CIDR"],
    [{ podCidr: '10.244.0.0/33' }, 'properties.networkProfile.podCidr', 'is not a valid IPv4 CIDR'],
    [{ serviceCidr: '300.0.0.0/16' }, 'properties.networkProfile.serviceCidr', 'is not a valid IPv4 CIDR'],
    [{ serviceCidr: 'fd00::/108' }, 'properties.networkProfile.serviceCidr', 'is not a valid IPv4 CIDR'],
    [{ podCidrs: ['\u001b[31m'] }, 'properties.networkProfile.podCidrs[0]', 'is not a valid CIDR'],
    [{ serviceCidrs: 'v4429' }, 'properties.networkProfile.serviceCidrs', 'must be a list of CIDRs'],
    [{ dnsServiceIP: '10.0.0' }, 'properties.networkProfile.dnsServiceIP', "The dnsServiceIP '10.0.0' is not a valid IPv4 address."],
    [{ dnsServiceIP: '10.1.0.10' }, 'properties.networkProfile.dnsServiceIP', "must be within the serviceCidr '10.0.0.0/16'"],
    [{ serviceCidr: '10.2.0.0/16', dnsServiceIP: '10.2.0.1' }, 'properties.networkProfile.dnsServiceIP', 'must not be the first address'],
    [{ podCidr: '10.0.0.0/8' }, 'properties.networkProfile.serviceCidr', "must not overlap the podCidr '10.0.0.0/8'"],
  ])('refuses %j with InvalidParameter naming the field', (profile, target, message) => {
    const e = catchArmError(() => checkNetworkProfile(profile));
    expect(e.status).toBe(400);
    expect(e.code).toBe('InvalidParameter');
    expect(e.target).toBe(target);
    expect(e.message).toContain(message);
  });
});

describe('changedNetworkProfile', () => {
  const stored = { networkPlugin: 'kubenet', podCidr: '10.244.0.0/16', serviceCidr: '10.2.0.0/16', dnsServiceIP: '10.2.0.10' };

  it('keeps the stored profile when the PUT has none, and the stored address fields the PUT leaves out', () => {
    expect(changedNetworkProfile(stored, undefined)).toEqual(stored);
    expect(changedNetworkProfile(stored, { networkPlugin: 'kubenet', outboundType: 'loadBalancer' })).toEqual({ ...stored, outboundType: 'loadBalancer' });
    expect(changedNetworkProfile(undefined, { networkPolicy: 'calico' })).toEqual({ networkPolicy: 'calico' });
  });

  it('takes the same ranges spelled as AKS answers them (defaults included) as no change', () => {
    expect(() =>
      changedNetworkProfile(undefined, { podCidr: '10.244.0.0/16', serviceCidr: '10.0.0.0/16', dnsServiceIP: '10.0.0.10', podCidrs: ['10.244.0.0/16'] }),
    ).not.toThrow();
  });

  it('refuses a change of a range with PropertyChangeNotAllowed, and bad syntax with InvalidParameter', () => {
    const e = catchArmError(() => changedNetworkProfile(stored, { serviceCidr: '10.3.0.0/16', dnsServiceIP: '10.3.0.10' }));
    expect([e.status, e.code, e.target]).toEqual([400, 'PropertyChangeNotAllowed', 'properties.networkProfile.serviceCidr']);
    expect(e.message).toBe("Changing property 'networkProfile.serviceCidr' is not allowed (it is '10.2.0.0/16').");
    expect(catchArmError(() => changedNetworkProfile(stored, { serviceCidr: '%252F' })).code).toBe('InvalidParameter');
    expect(catchArmError(() => changedNetworkProfile(undefined, { podCidr: '10.245.0.0/16' })).code).toBe('PropertyChangeNotAllowed');
  });
});
