// Allowed networks (the panel's "IP Liberado", docs/admin-api.md): parsing, normalisation and matching with ipaddr.js.
import t from 'tap';
import { canonicalAddress, checkNetwork, isAllowed, normaliseNetwork, parseNetworks } from '../../src/security/networks.js';

t.test('normalised CIDR blocks: a bare address is one host; host bits are cleared', async (t) => {
  const cases: [string, string][] = [
    ['10.0.0.7/24', '10.0.0.0/24'],
    ['127.0.0.1', '127.0.0.1/32'],
    ['::1', '::1/128'],
    [' 192.168.123.0/24 ', '192.168.123.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0::7/32', '2001:db8::/32'],
    ['::/0', '::/0'],
    ['::ffff:10.0.0.1', '10.0.0.1/32'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:0:0/95', '::fffe:0:0/95'],
  ];
  for (const [input, expected] of cases) t.equal(normaliseNetwork(input), expected, input);
});

t.test('what is not an address says so, naming the entry', async (t) => {
  const cases: [string, string][] = [
    ['192.168.123.456/32', '"192.168.123.456/32": "192.168.123.456" is not a valid IPv4 or IPv6 address'],
    ['192.168.123.456', '"192.168.123.456": "192.168.123.456" is not a valid IPv4 or IPv6 address'],
    ['10.1', '"10.1": "10.1" is not a valid IPv4 or IPv6 address'],
    ['010.0.0.1', '"010.0.0.1": "010.0.0.1" is not a valid IPv4 or IPv6 address'],
    ['0x7f.0.0.1', '"0x7f.0.0.1": "0x7f.0.0.1" is not a valid IPv4 or IPv6 address'],
    ['fe80::1%eth0', '"fe80::1%eth0": "fe80::1%eth0" is not a valid IPv4 or IPv6 address'],
    ['example.com', '"example.com": "example.com" is not a valid IPv4 or IPv6 address'],
    ['10.0.0.0/33', '"10.0.0.0/33": the prefix length must be from 0 to 32 for IPv4'],
    ['::/129', '"::/129": the prefix length must be from 0 to 128 for IPv6'],
    ['10.0.0.0/', '"10.0.0.0/": the prefix length "" must be a number from 0 to 32'],
    ['10.0.0.0/-1', '"10.0.0.0/-1": the prefix length "-1" must be a number from 0 to 32'],
    ['10.0.0.0/8/8', '"10.0.0.0/8/8" is not a valid address or CIDR block (more than one "/")'],
  ];
  for (const [input, error] of cases) {
    t.same(checkNetwork(input), { ok: false, error }, input);
    t.equal(normaliseNetwork(input), null);
  }
});

t.test('parseNetworks: comma-separated string or array; every bad entry named; duplicates dropped', async (t) => {
  t.same(parseNetworks('10.0.0.7/24, 127.0.0.1 ,::1'), { ok: true, networks: ['10.0.0.0/24', '127.0.0.1/32', '::1/128'] });
  t.same(parseNetworks(['10.0.0.1', '10.0.0.2,10.0.0.1/32']), { ok: true, networks: ['10.0.0.1/32', '10.0.0.2/32'] });
  t.same(parseNetworks('1.2.3.4, 192.168.123.456/32, 10.0.0.0/40'), {
    ok: false,
    error:
      '"192.168.123.456/32": "192.168.123.456" is not a valid IPv4 or IPv6 address; "10.0.0.0/40": the prefix length must be from 0 to 32 for IPv4',
  });
  for (const empty of ['', ' , ,', [], ['']]) {
    t.same(parseNetworks(empty), { ok: false, error: 'at least one IP address or CIDR block is required' }, JSON.stringify(empty));
  }
  const many = Array.from({ length: 101 }, (_, i) => `10.0.${i}.1`);
  t.same(parseNetworks(many), { ok: false, error: 'at most 100 addresses or CIDR blocks are allowed' });
  t.equal(parseNetworks(many.slice(0, 100)).ok, true);
});

t.test('isAllowed: IPv4-mapped IPv6 callers match IPv4 networks; families never cross', async (t) => {
  const networks = ['10.0.0.0/24', '2001:db8::/32'];
  t.ok(isAllowed('10.0.0.9', networks));
  t.ok(isAllowed('::ffff:10.0.0.9', networks), 'IPv4-mapped');
  t.ok(isAllowed('2001:db8::1', networks));
  t.notOk(isAllowed('10.0.1.9', networks));
  t.notOk(isAllowed('::ffff:10.0.1.9', networks));
  t.notOk(isAllowed('2001:db9::1', networks));
  t.notOk(isAllowed('::a00:9', networks), 'an IPv4-compatible (not mapped) IPv6 address is IPv6');
  t.notOk(isAllowed('not an address', networks));
  t.notOk(isAllowed('10.0.0.9', []));
  t.ok(isAllowed('203.0.113.1', ['0.0.0.0/0']));
  t.notOk(isAllowed('::1', ['0.0.0.0/0']), 'all of IPv4 is not IPv6');
  t.equal(canonicalAddress('::ffff:127.0.0.2'), '127.0.0.2');
  t.equal(canonicalAddress('::1'), '::1');
});
