// Allowed networks (the panel's "IP Liberado", docs/admin-api.md): parsed with ipaddr.js, stored normalised as CIDR
// blocks, matched against the caller's address as Fastify resolved it under TRUSTED_PROXIES.
import ipaddr from 'ipaddr.js';

export type ParsedNetworks = { ok: true; networks: string[] } | { ok: false; error: string };

type CheckedNetwork = { ok: true; network: string } | { ok: false; error: string };

/** The most entries one allow-list may hold: a panel field, not a routing table. */
export const MAX_NETWORKS = 100;

/**
 * One address or CIDR block, normalised: `10.0.0.7/24` → `10.0.0.0/24`, `127.0.0.1` →
 * `127.0.0.1/32`, `::1` → `::1/128`, and an IPv4-mapped block (`::ffff:10.0.0.0/120`) →
 * `10.0.0.0/24`, because callers' mapped addresses are matched as IPv4 (see isAllowed).
 * Only dotted-quad IPv4 is accepted: ipaddr.js (like inet_aton) would also read `10.1` or
 * `010.0.0.1` (octal), which no admin means.
 */
export function checkNetwork(input: string): CheckedNetwork {
  const text = input.trim();
  const [address = '', prefix, ...rest] = text.split('/');
  const invalidAddress = { ok: false as const, error: `"${text}": "${address}" is not a valid IPv4 or IPv6 address` };
  if (rest.length > 0) return { ok: false, error: `"${text}" is not a valid address or CIDR block (more than one "/")` };
  const isV4 = ipaddr.IPv4.isValidFourPartDecimal(address);
  // Zone ids (fe80::1%eth0) name an interface of one host: meaningless in an allow-list.
  if (!isV4 && (!ipaddr.IPv6.isValid(address) || address.includes('%'))) return invalidAddress;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6 = isV4 ? ipaddr.IPv4.parse(address) : ipaddr.IPv6.parse(address);
  const max = isV4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) {
    return { ok: false, error: `"${text}": the prefix length "${prefix}" must be a number from 0 to ${max}` };
  }
  let bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return { ok: false, error: `"${text}": the prefix length must be from 0 to ${max} for ${isV4 ? 'IPv4' : 'IPv6'}` };
  if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress() && bits >= 96) {
    parsed = parsed.toIPv4Address();
    bits -= 96;
  }
  const network =
    parsed instanceof ipaddr.IPv4
      ? ipaddr.IPv4.networkAddressFromCIDR(`${parsed.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${bits}`);
  return { ok: true, network: `${network.toString()}/${bits}` };
}

/** `10.0.0.7/24` → `10.0.0.0/24`; null when the input is not an address or CIDR block. */
export function normaliseNetwork(input: string): string | null {
  const checked = checkNetwork(input);
  return checked.ok ? checked.network : null;
}

/**
 * A comma-separated string or an array of addresses/CIDR blocks (array items may themselves be
 * comma-separated). Names every bad entry; duplicates after normalisation are dropped.
 */
export function parseNetworks(value: string | readonly string[]): ParsedNetworks {
  const items = (typeof value === 'string' ? [value] : value)
    .flatMap((item) => item.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) return { ok: false, error: 'at least one IP address or CIDR block is required' };
  if (items.length > MAX_NETWORKS) return { ok: false, error: `at most ${MAX_NETWORKS} addresses or CIDR blocks are allowed` };
  const networks: string[] = [];
  const errors: string[] = [];
  for (const item of items) {
    const checked = checkNetwork(item);
    if (!checked.ok) errors.push(checked.error);
    else if (!networks.includes(checked.network)) networks.push(checked.network);
  }
  return errors.length > 0 ? { ok: false, error: errors.join('; ') } : { ok: true, networks };
}

/**
 * An IP address as a caller's socket or a trusted proxy reports it: dotted-quad IPv4 or IPv6.
 * Behind TRUSTED_PROXIES the caller's address is an X-Forwarded-For entry, text that whoever sent
 * the request may have written (`garbage<script>`); ipaddr.js alone would also read `10.1`.
 */
function isAddress(ip: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(ip) || ipaddr.IPv6.isValid(ip);
}

/** Said in place of an address that does not parse: such text is never echoed to the caller. */
export const UNDETERMINED_ADDRESS = 'an address that could not be determined';

/**
 * The caller's address as one canonical string (IPv4-mapped IPv6, ::ffff:10.0.0.1, is IPv4), for
 * answers and logs; UNDETERMINED_ADDRESS for anything that is not an address.
 */
export function canonicalAddress(ip: string): string {
  return isAddress(ip) ? ipaddr.process(ip).toString() : UNDETERMINED_ADDRESS;
}

export function isAllowed(ip: string, networks: readonly string[]): boolean {
  if (!isAddress(ip)) return false;
  const address = ipaddr.process(ip);
  return networks.some((network) => {
    const [range, bits] = ipaddr.parseCIDR(network);
    return range.kind() === address.kind() && address.match(range, bits);
  });
}
