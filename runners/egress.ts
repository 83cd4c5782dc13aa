import { isIPv4, isIPv6 } from 'node:net';
import { AppError } from '../kernel/errors.ts';

/**
 * Where HTTP and SSE upstreams may connect. Public addresses always; loopback when
 * `allowLoopback`; anything else internal (private, link-local, unique-local, CGNAT, unspecified,
 * multicast, broadcast, cloud metadata) only when `allow` names it.
 */
export interface EgressPolicy {
  /** 127.0.0.0/8, ::1 and their IPv4-mapped forms, and names that resolve to them. */
  allowLoopback: boolean;
  /**
   * CIDRs (`10.20.0.0/16`, `fd12:3456::/32`), single addresses, or host names (`mcp.corp.internal`,
   * exact; `*.corp.internal`, any subdomain) allowed although internal. A host name allowed here
   * is trusted whatever it resolves to.
   */
  allow: string[];
}

/** Used when the operator configured nothing: a single-machine setup talks to its own loopback. */
export const DEFAULT_EGRESS_POLICY: EgressPolicy = { allowLoopback: true, allow: [] };

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'unspecified'
  | 'link-local'
  | 'private'
  | 'unique-local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'reserved';

/** A parsed address: IPv4 as a 32-bit number, IPv6 as a 128-bit bigint. */
export type Ip = { version: 4; value: number } | { version: 6; value: bigint };

/** A connection the policy refused; the message is short and stable, and says nothing more. */
export class EgressRefusedError extends AppError {
  constructor(reason: string) {
    super('upstream', 'UPSTREAM.EGRESS_REFUSED', `UPSTREAM.EGRESS_REFUSED: ${reason}`);
    this.name = 'EgressRefusedError';
  }
}

/** The EgressRefusedError somewhere in `e` or its chain of causes (fetch wraps it in a TypeError). */
export function egressRefusalIn(e: unknown): EgressRefusedError | undefined {
  for (let c = e, depth = 0; c !== undefined && c !== null && depth < 5; depth++) {
    if (c instanceof EgressRefusedError) return c;
    c = (c as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Parses a literal address (dotted-quad IPv4, or IPv6 with or without brackets and zone). */
export function parseIp(text: string): Ip | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare)) return { version: 4, value: parseV4(bare) };
  if (isIPv6(bare)) return { version: 6, value: parseV6(bare.replace(/%.*$/, '')) };
  return undefined;
}

function parseV4(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Expects what isIPv6 accepted (zone removed). */
function parseV6(text: string): bigint {
  // A trailing dotted quad (::ffff:127.0.0.1) is two more 16-bit groups.
  const hex = text.replace(/(\d+\.\d+\.\d+\.\d+)$/, (quad) => {
    const n = parseV4(quad);
    return `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  });
  const [head = '', rest] = hex.split('::');
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => BigInt(`0x${w}`)));
  const left = words(head);
  const right = rest === undefined ? [] : words(rest);
  const zeros = Array<bigint>(8 - left.length - right.length).fill(0n);
  return [...left, ...zeros, ...right].reduce((v, w) => (v << 16n) | w, 0n);
}

const v4 = (text: string) => parseV4(text);
const inV4 = (n: number, base: number, bits: number) =>
  bits === 0 || n >>> (32 - bits) === base >>> (32 - bits);
const v6 = (text: string) => parseV6(text);
const inV6 = (n: bigint, base: bigint, bits: number) =>
  bits === 0 || n >> BigInt(128 - bits) === base >> BigInt(128 - bits);
const inRange = (n: number, base: string, bits: number) => inV4(n, v4(base), bits);

/** Metadata services answer on these: AWS/GCP/Azure/OCI, Azure's wire server, Alibaba, AWS over IPv6. */
const METADATA_V4 = new Set(['169.254.169.254', '168.63.129.16', '100.100.100.200'].map(v4));
const METADATA_V6 = new Set([v6('fd00:ec2::254')]);
/** Host names of metadata services (they resolve to addresses refused anyway; the name is refused first). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

export function classifyV4(n: number): AddressClass {
  if (METADATA_V4.has(n)) return 'metadata';
  if (inRange(n, '0.0.0.0', 8)) return 'unspecified';
  if (inRange(n, '127.0.0.0', 8)) return 'loopback';
  if (inRange(n, '10.0.0.0', 8) || inRange(n, '172.16.0.0', 12) || inRange(n, '192.168.0.0', 16))
    return 'private';
  // Carrier-grade NAT (RFC 6598): internal to the provider, often to the cloud's own services.
  if (inRange(n, '100.64.0.0', 10)) return 'private';
  if (inRange(n, '169.254.0.0', 16)) return 'link-local';
  if (inRange(n, '224.0.0.0', 4)) return 'multicast';
  if (n === 0xffffffff) return 'broadcast';
  if (inRange(n, '240.0.0.0', 4)) return 'reserved';
  return 'public';
}

const MAPPED = v6('::ffff:0:0') >> 32n;
const TRANSLATED = v6('::ffff:0:0:0') >> 32n;
const NAT64 = v6('64:ff9b::') >> 32n;
const SIX_TO_FOUR = v6('2002::');

/**
 * The IPv4 address an IPv6 one stands for, where reaching one may reach the other: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), SIIT-translated, NAT64 (64:ff9b::/96), 6to4.
 */
export function embeddedV4(n: bigint): number | undefined {
  const high = n >> 32n;
  const low = Number(n & 0xffffffffn);
  if (high === MAPPED || high === TRANSLATED || high === NAT64) return low;
  // ::a.b.c.d, except :: and ::1, which are IPv6's own unspecified and loopback.
  if (high === 0n && n > 1n) return low;
  if (inV6(n, SIX_TO_FOUR, 16)) return Number((n >> 80n) & 0xffffffffn);
  return undefined;
}

export function classifyV6(n: bigint): AddressClass {
  if (METADATA_V6.has(n)) return 'metadata';
  if (n === 0n) return 'unspecified';
  if (n === 1n) return 'loopback';
  const embedded = embeddedV4(n);
  if (embedded !== undefined) return classifyV4(embedded);
  if (inV6(n, v6('fe80::'), 10)) return 'link-local';
  // Site-local (deprecated, but still routed inside some networks).
  if (inV6(n, v6('fec0::'), 10)) return 'private';
  if (inV6(n, v6('fc00::'), 7)) return 'unique-local';
  if (inV6(n, v6('ff00::'), 8)) return 'multicast';
  return 'public';
}

/** The class of a literal address; undefined when `text` is not one. */
export function classifyAddress(text: string): AddressClass | undefined {
  const ip = parseIp(text);
  if (!ip) return undefined;
  return ip.version === 4 ? classifyV4(ip.value) : classifyV6(ip.value);
}

const ARTICLE: Record<AddressClass, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  unspecified: 'an unspecified address',
  'link-local': 'a link-local address',
  private: 'a private address',
  'unique-local': 'a unique-local address',
  metadata: 'a cloud metadata address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
  reserved: 'a reserved address',
};

interface Cidr {
  ip: Ip;
  bits: number;
}

/** A policy parsed once: what the connect path asks. */
export interface EgressGuard {
  readonly policy: EgressPolicy;
  /**
   * What can be told from a URL alone: the scheme, a host written as an obfuscated number (when
   * `raw`, the URL as registered, is given), a literal address, a metadata host name.
   */
  checkUrl(url: URL, raw?: string): EgressRefusedError | undefined;
  /** The addresses a host name resolved to, every one of them, before a connection to any. */
  checkResolved(hostname: string, addresses: readonly string[]): EgressRefusedError | undefined;
  /** One line for the start-up log. */
  describe(): string;
}

/**
 * Parses a policy; throws an AppError ('validation', EGRESS.BAD_POLICY) naming every entry of
 * `allow` that is neither a CIDR, an address nor a host name.
 */
export function egressGuard(policy: EgressPolicy): EgressGuard {
  const cidrs: Cidr[] = [];
  const names: string[] = [];
  const suffixes: string[] = [];
  const bad: string[] = [];
  for (const entry of policy.allow.map((e) => e.trim()).filter(Boolean)) {
    const cidr = parseCidr(entry);
    if (cidr) cidrs.push(cidr);
    else if (/^\*\.[a-z0-9_.-]+$/i.test(entry)) suffixes.push(normalName(entry.slice(1)));
    else if (/^[a-z0-9_.-]+$/i.test(entry) && !/^[\d.]+$/.test(entry)) names.push(normalName(entry));
    else bad.push(entry);
  }
  if (bad.length > 0) {
    throw new AppError(
      'validation',
      'EGRESS.BAD_POLICY',
      `egress allow-list entries that are neither a CIDR, an address nor a host name: ${bad.join(', ')}`,
      { entries: bad },
    );
  }

  const nameAllowed = (hostname: string) => {
    const name = normalName(hostname);
    return names.includes(name) || suffixes.some((s) => name.endsWith(s));
  };
  const addressAllowed = (ip: Ip, cls: AddressClass) =>
    cls === 'public' || (cls === 'loopback' && policy.allowLoopback) || cidrs.some((c) => cidrHas(c, ip));

  return {
    policy,
    checkUrl(url, raw) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return new EgressRefusedError(`${url.protocol.slice(0, 20)} URLs are not allowed`);
      }
      const host = url.hostname;
      const ip = parseIp(host);
      // The URL parser turns 2130706433, 0x7f.1 or 0177.0.0.1 into 127.0.0.1: a host written so is
      // hiding what it is, and is refused whatever the policy.
      const written = raw === undefined ? undefined : rawHost(raw);
      if (ip?.version === 4 && written !== undefined && written !== host) {
        return new EgressRefusedError(`${clip(written)} is a numeric host in a non-canonical form`);
      }
      if (nameAllowed(host)) return undefined;
      if (ip) {
        const cls = ip.version === 4 ? classifyV4(ip.value) : classifyV6(ip.value);
        return addressAllowed(ip, cls)
          ? undefined
          : new EgressRefusedError(`${clip(host)} is ${ARTICLE[cls]}`);
      }
      if (METADATA_NAMES.has(normalName(host))) {
        return new EgressRefusedError(`${clip(host)} is a cloud metadata host name`);
      }
      return undefined;
    },
    checkResolved(hostname, addresses) {
      if (nameAllowed(hostname)) return undefined;
      for (const address of addresses) {
        const ip = parseIp(address);
        if (!ip) return new EgressRefusedError(`${clip(hostname)} resolves to an unparsable address`);
        const cls = ip.version === 4 ? classifyV4(ip.value) : classifyV6(ip.value);
        if (!addressAllowed(ip, cls))
          return new EgressRefusedError(`${clip(hostname)} resolves to ${ARTICLE[cls]}`);
      }
      return undefined;
    },
    describe() {
      const allowed = policy.allow.length > 0 ? `; also allowed: ${policy.allow.join(', ')}` : '';
      return `HTTP upstreams may reach public addresses${policy.allowLoopback ? ' and loopback' : ''}${allowed}; other internal addresses (private, link-local, unique-local, metadata) are refused`;
    },
  };
}

function parseCidr(entry: string): Cidr | undefined {
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined) return undefined;
  const ip = parseIp(address);
  if (!ip) return undefined;
  const max = ip.version === 4 ? 32 : 128;
  const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Number.NaN;
  if (!(bits >= 0 && bits <= max)) return undefined;
  return { ip, bits };
}

function cidrHas(cidr: Cidr, ip: Ip): boolean {
  if (cidr.ip.version === 4) {
    // An IPv4 range also covers the IPv6 forms that reach the same IPv4 address.
    const n = ip.version === 4 ? ip.value : embeddedV4(ip.value);
    return n !== undefined && inV4(n, cidr.ip.value, cidr.bits);
  }
  return ip.version === 6 && inV6(ip.value, cidr.ip.value, cidr.bits);
}

function normalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}

/** The host of a URL as it was written (lower case, no userinfo, port or brackets' content change). */
export function rawHost(url: string): string | undefined {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\\]*)/i.exec(url.trim())?.[1];
  if (authority === undefined) return undefined;
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPort.startsWith('[')) return hostPort.slice(0, hostPort.indexOf(']') + 1).toLowerCase();
  return hostPort.replace(/:[^:]*$/, '').toLowerCase();
}
