import { describe, expect, it } from 'vitest';
import { type AddressClass, classifyAddress, egressGuard, parseIp, rawHost } from './egress.ts';

describe('address classification', () => {
  it.each<[string, AddressClass]>([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.1', 'public'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
  ])('IPv4 %s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it.each<[string, AddressClass]>([
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:808:808::1', 'public'],
    ['::ffff:8.8.8.8', 'public'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:4860:4860::8888', 'public'],
    ['2606:4700::1111', 'public'],
  ])('IPv6 %s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it('parses only literal addresses; names and obfuscated numbers are not addresses', () => {
    expect(parseIp('::ffff:127.0.0.1')).toEqual(parseIp('::ffff:7f00:1'));
    for (const text of ['localhost', '2130706433', '0x7f.1', '0177.0.0.1', '127.1', '::ffff:1.2.3', '']) {
      expect(parseIp(text), text).toBeUndefined();
    }
  });
});

describe('egress guard', () => {
  const strict = egressGuard({ allowLoopback: false, allow: [] });
  const check = (raw: string, guard = strict) => guard.checkUrl(new URL(raw), raw)?.message;

  it('refuses internal literal hosts with a short, stable reason', () => {
    expect(check('http://127.0.0.1:8080/mcp')).toBe(
      'UPSTREAM.EGRESS_REFUSED: 127.0.0.1 is a loopback address',
    );
    expect(check('http://[::ffff:127.0.0.1]/mcp')).toBe(
      'UPSTREAM.EGRESS_REFUSED: [::ffff:7f00:1] is a loopback address',
    );
    expect(check('http://[::1]/')).toMatch(/is a loopback address$/);
    expect(check('http://0.0.0.0:3000/')).toMatch(/is an unspecified address$/);
    expect(check('http://169.254.169.254/latest/meta-data/')).toMatch(/is a cloud metadata address$/);
    expect(check('http://[fd00:ec2::254]/')).toMatch(/is a cloud metadata address$/);
    expect(check('http://10.0.0.5/')).toMatch(/is a private address$/);
    expect(check('http://[fe80::1]/')).toMatch(/is a link-local address$/);
    expect(check('https://mcp.example.com/mcp')).toBeUndefined();
    expect(check('https://8.8.8.8/mcp')).toBeUndefined();
  });

  it('refuses hosts written as numbers other than dotted quads, whatever the policy', () => {
    const lenient = egressGuard({ allowLoopback: true, allow: ['0.0.0.0/0'] });
    for (const raw of [
      'http://2130706433/',
      'http://0x7f000001/',
      'http://017700000001/',
      'http://0x7f.1/',
      'http://127.1/',
      'http://0177.0.0.1/',
      'http://%31%32%37.0.0.1/',
      'http://user:pw@134744072:8080/',
    ]) {
      expect(check(raw, lenient), raw).toMatch(/is a numeric host in a non-canonical form$/);
    }
    expect(check('http://127.0.0.1/', lenient)).toBeUndefined();
  });

  it('refuses metadata host names and non-HTTP schemes', () => {
    expect(check('http://metadata.google.internal/computeMetadata/v1/')).toBe(
      'UPSTREAM.EGRESS_REFUSED: metadata.google.internal is a cloud metadata host name',
    );
    expect(check('http://METADATA.google.internal./')).toMatch(/cloud metadata host name$/);
    expect(check('file:///etc/passwd')).toBe('UPSTREAM.EGRESS_REFUSED: file: URLs are not allowed');
  });

  it('judges every address a name resolves to', () => {
    expect(strict.checkResolved('example.com', ['93.184.216.34', '2606:2800::1'])).toBeUndefined();
    expect(strict.checkResolved('localhost', ['::1', '127.0.0.1'])?.message).toBe(
      'UPSTREAM.EGRESS_REFUSED: localhost resolves to a loopback address',
    );
    // One internal answer among public ones is enough: the connection may go to any of them.
    expect(strict.checkResolved('rebind.example', ['93.184.216.34', '169.254.169.254'])?.message).toBe(
      'UPSTREAM.EGRESS_REFUSED: rebind.example resolves to a cloud metadata address',
    );
    expect(strict.checkResolved('x.example', ['::ffff:192.168.0.1'])?.message).toMatch(
      /resolves to a private address$/,
    );
  });

  it('allows loopback, CIDRs and host names an operator listed, and only those', () => {
    const guard = egressGuard({
      allowLoopback: true,
      allow: ['10.20.0.0/16', 'fd12:3456::/32', '192.168.1.7', 'mcp.corp.internal', '*.svc.cluster.local'],
    });
    expect(check('http://127.0.0.1/', guard)).toBeUndefined();
    expect(check('http://[::ffff:127.0.0.1]/', guard)).toBeUndefined();
    expect(check('http://10.20.3.4/', guard)).toBeUndefined();
    expect(check('http://[::ffff:10.20.3.4]/', guard)).toBeUndefined();
    expect(check('http://10.21.0.1/', guard)).toMatch(/private address/);
    expect(check('http://[fd12:3456::9]/', guard)).toBeUndefined();
    expect(check('http://[fd12:3457::9]/', guard)).toMatch(/unique-local address/);
    expect(check('http://192.168.1.7/', guard)).toBeUndefined();
    expect(check('http://192.168.1.8/', guard)).toMatch(/private address/);
    expect(check('http://0.0.0.0/', guard)).toMatch(/unspecified address/);
    expect(check('http://169.254.169.254/', guard)).toMatch(/cloud metadata address/);
    expect(guard.checkResolved('mcp.corp.internal', ['10.99.0.1'])).toBeUndefined();
    expect(guard.checkResolved('a.b.svc.cluster.local', ['10.96.0.10'])).toBeUndefined();
    expect(guard.checkResolved('svc.cluster.local.evil.com', ['10.96.0.10'])?.message).toMatch(/private/);
  });

  it('refuses a policy with entries it cannot read, naming them', () => {
    expect(() => egressGuard({ allowLoopback: false, allow: ['10.0.0.0/33', 'ok.example', 'a b'] })).toThrow(
      /neither a CIDR, an address nor a host name: 10\.0\.0\.0\/33, a b/,
    );
  });

  it('reads the host as written', () => {
    expect(rawHost('http://user:p@ss@2130706433:80/x')).toBe('2130706433');
    expect(rawHost('HTTP://[::1]:8080/')).toBe('[::1]');
    expect(rawHost('http://Example.COM')).toBe('example.com');
  });
});
