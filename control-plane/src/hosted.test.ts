import { describe, expect, it } from 'vitest';
import { addressAllowed, checkPublicUrl, hostedUrl, parseNetworks } from './hosted.js';

describe('hosted mode: which addresses the control plane may call', () => {
  const none = parseNetworks([]);

  it.each([
    ['93.184.216.34', true],
    ['2606:2800:220:1:248:1893:25c8:1946', true],
    ['10.0.0.1', false],
    ['172.16.5.4', false],
    ['192.168.1.1', false],
    ['127.0.0.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['::1', false],
    ['::', false],
    ['fe80::1', false],
    ['fd00::1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:93.184.216.34', true],
    ['2001:db8::1', false],
    ['not an address', false],
  ])('%s → %s with no allowed networks', (address, allowed) => {
    expect(addressAllowed(address, none)).toBe(allowed);
  });

  it('allows private addresses inside the allowed networks only, bare addresses being one-address networks', () => {
    const allowed = parseNetworks(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
    expect(addressAllowed('10.200.3.4', allowed)).toBe(true);
    expect(addressAllowed('::ffff:10.200.3.4', allowed)).toBe(true);
    expect(addressAllowed('127.0.0.1', allowed)).toBe(true);
    expect(addressAllowed('127.0.0.2', allowed)).toBe(false);
    expect(addressAllowed('fd12::1', allowed)).toBe(true);
    expect(addressAllowed('192.168.0.1', allowed)).toBe(false);
  });

  it('names a network it cannot read', () => {
    expect(() => parseNetworks(['10.0.0.0/8', 'ten/8'])).toThrow(/ten\/8 is not a network/);
  });
});

describe('hosted mode: publicUrl', () => {
  it.each([
    ['http://agent.example', /must be https/],
    ['https://user:pw@agent.example', /credentials/],
    ['https://agent.example/?x=1', /query or fragment/],
    ['https://agent.example:99999', /not an absolute URL/],
  ])('refuses %s', (url, message) => {
    expect(() => checkPublicUrl(url)).toThrow(message);
  });

  it('puts well-known paths under the URL, with or without a trailing slash', () => {
    expect(hostedUrl('https://a.example/base', '.well-known/agent-card.json').href).toBe(
      'https://a.example/base/.well-known/agent-card.json',
    );
    expect(hostedUrl('https://a.example/', 'agentspec/health').href).toBe('https://a.example/agentspec/health');
  });
});
