// Allowed networks (API.md "IP Liberado"): parsed with ipaddr.js, stored normalised as CIDR
// blocks, matched against the caller's address as Fastify resolved it under TRUSTED_PROXIES.
import ipaddr from 'ipaddr.js';

export type ParsedNetworks = { ok: true; networks: string[] } | { ok: false; error: string };

/** `10.0.0.7/24` → `10.0.0.0/24`, `127.0.0.1` → `127.0.0.1/32`, `::1` → `::1/128`. */
export function normaliseNetwork(input: string): string | null {
  const text = input.trim();
  const [address, prefix, ...rest] = text.split('/');
  if (address === undefined || rest.length > 0) return null;
  if (!ipaddr.isValid(address) || (!ipaddr.IPv4.isValidFourPartDecimal(address) && !ipaddr.IPv6.isValid(address))) return null;
  const parsed = ipaddr.parse(address);
  const max = parsed.kind() === 'ipv4' ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return null;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return null;
  const network =
    parsed.kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(`${parsed.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${bits}`);
  return `${network.toString()}/${bits}`;
}

/** A comma-separated string or an array of addresses/CIDR blocks; names the first bad entry. */
export function parseNetworks(value: string | string[]): ParsedNetworks {
  const items = (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) return { ok: false, error: 'at least one IP address or CIDR block is required' };
  const networks: string[] = [];
  for (const item of items) {
    const network = normaliseNetwork(item);
    if (!network) return { ok: false, error: `"${item}" is not a valid IPv4/IPv6 address or CIDR block` };
    if (!networks.includes(network)) networks.push(network);
  }
  return { ok: true, networks };
}

/** The caller's address as one canonical string: IPv4-mapped IPv6 (::ffff:10.0.0.1) is IPv4. */
export function canonicalAddress(ip: string): string {
  return ipaddr.isValid(ip) ? ipaddr.process(ip).toString() : ip;
}

export function isAllowed(ip: string, networks: readonly string[]): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const address = ipaddr.process(ip);
  return networks.some((network) => {
    const [range, bits] = ipaddr.parseCIDR(network);
    return range.kind() === address.kind() && address.match(range, bits);
  });
}
