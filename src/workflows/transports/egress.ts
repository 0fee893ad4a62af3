/**
 * Egress safety for webhooks (SPEC.md, "Egress safety"): a destination whose address is not
 * public (loopback, RFC 1918, link-local, CGNAT, unique-local, multicast, unspecified,
 * documentation and benchmarking ranges, and IPv6 forms that embed such an IPv4 address) is
 * refused. The check runs in the socket's own DNS lookup (egressLookup, given to undici's
 * connector), so it judges exactly the addresses the connection then uses: a name that
 * resolves to a public address when checked and to 127.0.0.1 when connecting (DNS
 * rebinding) has no gap to slip through. A literal-IP URL never reaches a lookup, so the
 * sender checks it with isPublicAddress before sending.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, isIPv4 } from 'node:net';

/** Refused by the egress filter: a permanent failure (the step's URL must change). */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = 'ERR_EGRESS_REFUSED';
}

export interface EgressPolicy {
  /** WEBHOOK_ALLOW_PRIVATE=true: every address is allowed. */
  allowPrivate: boolean;
  /** WEBHOOK_ALLOWED_HOSTS: hostnames (or literal IPs) exempt from the filter, compared case-insensitively. */
  allowedHosts: string[];
}

const V4_BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 unspecified
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // CGNAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives at 169.254.169.254)
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, 255.255.255.255 broadcast
] as const) {
  V4_BLOCKED.addSubnet(net, prefix, 'ipv4');
}

/** Inside global unicast (2000::/3), the ranges that are not public destinations. */
const V6_BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['2001::', 23], // IETF protocol assignments, Teredo (2001::/32) included
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation (RFC 9637)
] as const) {
  V6_BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** The 8 hextets of an IPv6 address (zone id dropped, a trailing dotted quad folded in); null if malformed. */
function hextets(address: string): number[] | null {
  let a = address.toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (quad) {
    if (!isIPv4(quad[1]!)) return null;
    const [b0, b1, b2, b3] = quad[1]!.split('.').map(Number) as [number, number, number, number];
    a = `${a.slice(0, quad.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const halves = a.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((h) => (/^[0-9a-f]{1,4}$/.test(h) ? parseInt(h, 16) : NaN)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return null;
  const out = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  return out.some((h) => Number.isNaN(h)) ? null : out;
}

function v4From(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Why an address is not a public destination, or null when it is one. Malformed input is refused. */
export function nonPublicReason(address: string): string | null {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) return V4_BLOCKED.check(address, 'ipv4') ? 'a loopback, private, link-local, CGNAT or reserved IPv4 address' : null;
  if (family !== 6) return 'not an IP address';
  const h = hextets(address);
  if (!h) return 'not an IP address';
  // IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach an IPv4 address: judge that one.
  if (h.slice(0, 5).every((x) => x === 0) && h[5] === 0xffff) return nonPublicReason(v4From(h[6]!, h[7]!));
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return nonPublicReason(v4From(h[6]!, h[7]!));
  if (h[0] === 0x2002) return nonPublicReason(v4From(h[1]!, h[2]!));
  // Only global unicast (2000::/3) is public: this excludes ::, ::1, IPv4-compatible ::/96,
  // 64:ff9b:1::/48, discard 100::/64, unique-local fc00::/7, link-local fe80::/10, site-local, multicast ff00::/8.
  if ((h[0]! & 0xe000) !== 0x2000) return 'a loopback, unspecified, unique-local, link-local, multicast or reserved IPv6 address';
  const canonical = h.map((x) => x.toString(16)).join(':');
  if (V6_BLOCKED.check(canonical, 'ipv6')) return 'a reserved or documentation IPv6 address';
  return null;
}

export function isPublicAddress(address: string): boolean {
  return nonPublicReason(address) === null;
}

function hostAllowed(policy: EgressPolicy, hostname: string): boolean {
  if (policy.allowPrivate) return true;
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return policy.allowedHosts.some((a) => a === h);
}

/**
 * Refuses a literal-IP host that the lookup would never see; null when the host may be
 * tried (a name is judged later, on its resolved addresses).
 */
export function refuseLiteralHost(policy: EgressPolicy, hostname: string): string | null {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 0 || hostAllowed(policy, bare)) return null;
  const reason = nonPublicReason(bare);
  return reason ? `refused to connect to ${bare}: ${reason} (set WEBHOOK_ALLOW_PRIVATE=true or list the host in WEBHOOK_ALLOWED_HOSTS)` : null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net.connect / tls.connect (undici's `connect.lookup`): resolves as
 * dns.lookup does, then keeps only public addresses (all of them for an allowed host).
 * No public address left: the connection fails with EgressRefusedError.
 */
export function egressLookup(policy: EgressPolicy) {
  return (hostname: string, options: { family?: number | string; all?: boolean; hints?: number } | undefined, callback: LookupCallback): void => {
    const opts = options ?? {};
    dnsLookup(hostname, { family: opts.family as number | undefined, hints: opts.hints, all: true } as { all: true }, (err, addresses) => {
      if (err) return callback(err, opts.all ? [] : '');
      const allowed = hostAllowed(policy, hostname) ? addresses : addresses.filter((a) => isPublicAddress(a.address));
      if (allowed.length === 0) {
        const seen = addresses.map((a) => a.address).join(', ');
        const e = new EgressRefusedError(
          `refused to connect to ${hostname} (${seen}): not a public address (set WEBHOOK_ALLOW_PRIVATE=true or list the host in WEBHOOK_ALLOWED_HOSTS)`,
        );
        return callback(e, opts.all ? [] : '');
      }
      if (opts.all) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
