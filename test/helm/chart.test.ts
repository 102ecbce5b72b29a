// The Helm chart (helm/reseller-auth): `helm lint --strict`, then `helm template` with the default
// values, with ci/production-values.yaml and with a few targeted overrides. Every rendered
// manifest is validated against the Kubernetes OpenAPI schemas (kubernetes-models), then the
// properties the service's security and operation depend on are asserted one by one.
//
// Helm itself is built from source by scripts/helm.sh (a few minutes the first time, cached in
// .cache/bin afterwards); without Go and without a cached binary the file is skipped.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import t, { type Test } from 'tap';
import { parse, parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const chartDir = join(repoRoot, 'helm', 'reseller-auth');
const productionValues = join(chartDir, 'ci', 'production-values.yaml');

const release = 'dbs';
const namespace = 'auth';
const fullname = `${release}-reseller-auth`;
const internalName = `${fullname}-internal`;

// Helm is built on the first run; rendering and linting take seconds after that.
t.setTimeout(600_000);

/** The secret environment variables: never in the ConfigMap, always from a secretKeyRef. */
const secretEnv = ['DATABASE_URL', 'REDIS_URL', 'ADMIN_TOKENS', 'SECRET_KEY'] as const;
/** The variables of docs/configuration.md the ConfigMap must carry. */
const configEnv = [
  'HOST',
  'PORT',
  'ADMIN_PORT',
  'DATA_DIR',
  'TRUSTED_PROXIES',
  'ACCESS_TOKEN_TTL',
  'REFRESH_TOKEN_TTL',
  'SCOPES',
  'DOCS_PATH',
  'ISSUER',
  'LOG_LEVEL',
  'LOGIN_MAX_FAILURES_USER',
  'LOGIN_MAX_FAILURES_CLIENT_IP',
  'LOGIN_MAX_FAILURES_IP',
  'LOGIN_WINDOW',
  'SHUTDOWN_DELAY',
  'DATABASE_POOL_MAX',
  'MIGRATE_ON_START',
  'NODE_ENV',
] as const;
/** The chart generates SECRET_KEY and ADMIN_TOKENS only when told to (secret.yaml explains why). */
const generate = ['--set', 'secret.generate=true'];

// Every kind the chart may render, keyed by apiVersion and kind. A manifest of any other kind
// fails the test: it would have escaped validation.
const modelClasses = [
  ConfigMap,
  Secret,
  Service,
  ServiceAccount,
  Pod,
  Deployment,
  Job,
  Ingress,
  NetworkPolicy,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  ServiceMonitor,
];
type Manifest = InstanceType<(typeof modelClasses)[number]>;
// `never`: the constructors are called with parsed YAML, which the schemas then judge.
type ModelClass = (new (data: never) => Manifest) & { apiVersion: string; kind: string };
const modelByType = new Map<string, ModelClass>(modelClasses.map((c: ModelClass) => [`${c.apiVersion}/${c.kind}`, c]));

async function helm(bin: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(bin, args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`);
  }
}

/** A rendered chart: every manifest validated and turned into its model class. */
class Render {
  constructor(readonly manifests: Manifest[]) {}

  all<T extends Manifest>(cls: abstract new (...args: never[]) => T): T[] {
    return this.manifests.filter((m): m is T => m instanceof cls);
  }

  one<T extends Manifest>(cls: abstract new (...args: never[]) => T, name: string): T {
    const found = this.all(cls).filter((m) => m.metadata?.name === name);
    if (found.length !== 1) {
      throw new Error(`expected one ${cls.name} named ${name}, found ${found.length}`);
    }
    return found[0] as T;
  }
}

function validate(doc: unknown, index: number): Manifest {
  if (typeof doc !== 'object' || doc === null) throw new Error(`document ${index} is not an object`);
  const { apiVersion, kind } = doc as { apiVersion?: unknown; kind?: unknown };
  const Model = modelByType.get(`${String(apiVersion)}/${String(kind)}`);
  if (!Model) throw new Error(`document ${index}: no model for ${String(apiVersion)} ${String(kind)}`);
  const model = new Model(doc as never);
  // Throws with the JSON-schema path of the first violation.
  model.validate();
  return model;
}

async function render(t: Test, bin: string, args: string[]): Promise<Render> {
  const { stdout } = await helm(bin, ['template', release, chartDir, '--namespace', namespace, ...args]);
  const docs = parseAllDocuments(stdout);
  if (!Array.isArray(docs)) throw new Error('helm template printed no YAML documents');
  const manifests: Manifest[] = [];
  for (const [i, doc] of docs.entries()) {
    t.same(doc.errors, [], `document ${i} parses as YAML`);
    const js: unknown = doc.toJS();
    if (js === null || js === undefined) continue; // an empty document between `---` lines
    manifests.push(validate(js, i));
  }
  t.ok(manifests.length > 0, 'renders manifests');
  t.pass(`all ${manifests.length} manifests validate against the Kubernetes schemas`);
  return new Render(manifests);
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

function container(spec: IPodSpec | undefined, what: string): IContainer {
  const containers = spec?.containers ?? [];
  if (containers.length !== 1) throw new Error(`${what}: expected one container, found ${containers.length}`);
  return containers[0] as IContainer;
}

/** The hardening every pod of the chart (server and migration) must carry. */
function assertHardened(t: Test, spec: IPodSpec | undefined, c: IContainer, what: string) {
  const pod = spec?.securityContext;
  t.equal(pod?.runAsNonRoot, true, `${what}: pod runAsNonRoot`);
  t.equal(pod?.runAsUser, 1000, `${what}: pod runs as uid 1000 (node)`);
  t.equal(pod?.fsGroup, 1000, `${what}: pod fsGroup`);
  t.equal(pod?.seccompProfile?.type, 'RuntimeDefault', `${what}: seccomp RuntimeDefault`);
  const sc = c.securityContext;
  t.equal(sc?.readOnlyRootFilesystem, true, `${what}: read-only root filesystem`);
  t.equal(sc?.allowPrivilegeEscalation, false, `${what}: no privilege escalation`);
  t.same(sc?.capabilities?.drop, ['ALL'], `${what}: drops all capabilities`);
  t.notOk(sc?.capabilities?.add?.length, `${what}: adds no capability`);
  t.notOk(sc?.privileged, `${what}: not privileged`);
  t.equal(spec?.automountServiceAccountToken, false, `${what}: no ServiceAccount token`);
  // The read-only root filesystem needs writable /tmp and DATA_DIR, both emptyDirs.
  for (const mountPath of ['/tmp', '/app/data']) {
    const mount = c.volumeMounts?.find((m) => m.mountPath === mountPath);
    t.ok(mount, `${what}: mounts ${mountPath}`);
    const volume = spec?.volumes?.find((v) => v.name === mount?.name);
    t.ok(volume?.emptyDir, `${what}: ${mountPath} is an emptyDir`);
  }
}

/** Every secret variable comes from a secretKeyRef of `secretName`; none has a literal value. */
function assertSecretEnv(t: Test, c: IContainer, secretName: string, names: readonly string[], what: string) {
  for (const name of names) {
    const env = c.env?.filter((e) => e.name === name) ?? [];
    t.equal(env.length, 1, `${what}: ${name} is set once`);
    t.equal(env[0]?.value, undefined, `${what}: ${name} has no literal value`);
    t.equal(env[0]?.valueFrom?.secretKeyRef?.name, secretName, `${what}: ${name} comes from Secret ${secretName}`);
    t.equal(env[0]?.valueFrom?.secretKeyRef?.key, name, `${what}: ${name} is read from key ${name}`);
    t.notOk(env[0]?.valueFrom?.secretKeyRef?.optional, `${what}: ${name} is not optional`);
  }
  // envFrom may only bring in the ConfigMap: a secretRef there would be a second source.
  for (const from of c.envFrom ?? []) {
    t.notOk(from.secretRef, `${what}: no envFrom secretRef`);
    t.equal(from.configMapRef?.name, fullname, `${what}: envFrom only the chart's ConfigMap`);
  }
}

interface Expect {
  secretName: string;
  chartSecret: boolean;
  optional: { hpa: boolean; pdb: boolean; networkPolicy: boolean; serviceMonitor: boolean; ingress: boolean };
  ingressPaths: string[];
}

/** The assertions both the default and the production render must pass. */
function assertEssentials(t: Test, r: Render, expect: Expect) {
  const dep = r.one(Deployment, fullname);
  const podSpec = dep.spec?.template.spec;
  const podLabels = dep.spec?.template.metadata?.labels;
  const server = container(podSpec, 'server');
  t.ok(selects(dep.spec?.selector.matchLabels, podLabels), 'the Deployment selects its own pods');

  t.test('Deployment: ports, probes, command', async (t) => {
    t.same(
      server.ports?.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol })),
      [
        { name: 'http', containerPort: 3000, protocol: 'TCP' },
        { name: 'admin', containerPort: 3001, protocol: 'TCP' },
      ],
      'exactly two container ports: http 3000 and admin 3001',
    );
    t.equal(server.livenessProbe?.httpGet?.path, '/health/live', 'liveness GET /health/live');
    t.equal(server.livenessProbe?.httpGet?.port, 'admin', 'liveness on the admin port');
    t.equal(server.readinessProbe?.httpGet?.path, '/health/ready', 'readiness GET /health/ready');
    t.equal(server.readinessProbe?.httpGet?.port, 'admin', 'readiness on the admin port');
    t.equal(server.startupProbe?.httpGet?.path, '/health/live', 'startup probe GET /health/live');
    t.equal(server.startupProbe?.httpGet?.port, 'admin', 'startup probe on the admin port');
    t.equal(server.command, undefined, "no command: the image's own `node dist/server.js`");
    t.equal(server.args, undefined, 'no args');
    t.ok(server.resources?.requests?.cpu && server.resources.requests.memory, 'CPU and memory requests');
    t.ok(server.resources?.limits?.memory, 'a memory limit');
  });

  t.test('Deployment: security contexts and scratch volumes', async (t) => {
    assertHardened(t, podSpec, server, 'server');
  });

  t.test('Deployment: checksum annotations roll the pods', async (t) => {
    const annotations = dep.spec?.template.metadata?.annotations ?? {};
    t.match(annotations['checksum/config'], /^[0-9a-f]{64}$/, 'checksum/config');
    t.match(annotations['checksum/secret'], /^[0-9a-f]{64}$/, 'checksum/secret');
  });

  t.test('configuration and secrets', async (t) => {
    const cm = r.one(ConfigMap, fullname);
    const data = cm.data ?? {};
    for (const name of configEnv) t.type(data[name], 'string', `ConfigMap sets ${name}`);
    t.equal(data.NODE_ENV, 'production', 'NODE_ENV=production');
    t.equal(data.PORT, '3000', 'PORT 3000');
    t.equal(data.ADMIN_PORT, '3001', 'ADMIN_PORT 3001');
    t.equal(data.DATA_DIR, '/app/data', 'DATA_DIR is the mounted emptyDir');
    t.match(data.REFRESH_TOKEN_TTL, /^\d+$/, 'TTLs are plain integers, not 2.592e+06');
    for (const name of secretEnv) t.notOk(name in data, `the ConfigMap does not carry ${name}`);
    t.equal(cm.binaryData, undefined, 'no binaryData');

    assertSecretEnv(t, server, expect.secretName, secretEnv, 'server');
    t.ok(
      server.envFrom?.some((f) => f.configMapRef?.name === cm.metadata?.name),
      'the server reads the ConfigMap with envFrom',
    );
    for (const e of server.env ?? []) {
      t.notOk(e.value !== undefined && /URL|TOKEN|SECRET|KEY/.test(e.name), `${e.name} is no literal credential`);
    }

    const secrets = r.all(Secret);
    if (expect.chartSecret) {
      t.equal(secrets.length, 1, 'the chart renders one Secret');
      const secret = r.one(Secret, expect.secretName);
      t.same(Object.keys(secret.data ?? {}).sort(), [...secretEnv].sort(), 'it holds exactly the four keys');
      const decode = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
      t.equal(Buffer.from(decode('SECRET_KEY'), 'base64').length, 32, 'a generated SECRET_KEY is 32 bytes, base64');
      t.match(decode('ADMIN_TOKENS'), /^[A-Za-z0-9]{48}$/, 'a generated admin token');
      const annotations = secret.metadata?.annotations ?? {};
      t.equal(annotations['helm.sh/hook'], 'pre-install,pre-upgrade', 'the Secret is a pre-install/upgrade hook');
      t.equal(annotations['helm.sh/resource-policy'], 'keep', 'the Secret survives helm uninstall');
    } else {
      t.same(secrets, [], 'no Secret rendered: the existing one is used');
    }
  });

  t.test('migration Job', async (t) => {
    const job = r.one(Job, `${fullname}-migration`);
    const annotations = job.metadata?.annotations ?? {};
    t.equal(annotations['helm.sh/hook'], 'pre-install,pre-upgrade', 'a pre-install,pre-upgrade hook');
    t.equal(annotations['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded', 'deleted before the next run and after success');
    const jobWeight = Number(annotations['helm.sh/hook-weight']);
    t.ok(Number.isInteger(jobWeight), 'has a hook weight');
    const jobSpec = job.spec?.template.spec;
    const migrate = container(jobSpec, 'migration');
    t.same(migrate.command, ['node', 'dist/cli/main.js', 'migrate'], 'runs node dist/cli/main.js migrate');
    t.equal(migrate.image, server.image, 'from the same image as the Deployment');
    t.equal(jobSpec?.restartPolicy, 'Never', 'restartPolicy Never');
    assertHardened(t, jobSpec, migrate, 'migration');
    assertSecretEnv(t, migrate, expect.secretName, ['DATABASE_URL'], 'migration');

    // Everything the Job needs must exist before it: hooks of a lower weight (or pre-existing).
    const hookBefore = (m: Manifest | undefined) =>
      m?.metadata?.annotations?.['helm.sh/hook']?.split(',').includes('pre-install') === true &&
      Number(m.metadata.annotations['helm.sh/hook-weight']) < jobWeight;
    const sa = r.all(ServiceAccount).find((s) => s.metadata?.name === jobSpec?.serviceAccountName);
    t.ok(hookBefore(sa), "the Job's ServiceAccount is a hook created before it");
    if (expect.chartSecret) {
      t.ok(hookBefore(r.one(Secret, expect.secretName)), 'the Secret is a hook created before the Job');
    }
  });

  t.test('Services', async (t) => {
    const pub = r.one(Service, fullname);
    t.same(
      pub.spec?.ports?.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort })),
      [{ name: 'http', port: 3000, targetPort: 'http' }],
      'the public Service exposes only port 3000 → http',
    );
    const internal = r.one(Service, internalName);
    t.same(
      internal.spec?.ports?.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort })),
      [{ name: 'admin', port: 3001, targetPort: 'admin' }],
      'the internal Service exposes only port 3001 → admin',
    );
    t.equal(internal.spec?.type, 'ClusterIP', 'the internal Service is ClusterIP');
    for (const svc of [pub, internal]) {
      t.ok(selects(svc.spec?.selector, podLabels), `${svc.metadata?.name} selects the server pods`);
    }
    t.equal(r.all(Service).length, 2, 'no other Service');
  });

  t.test('Ingress', async (t) => {
    const ingresses = r.all(Ingress);
    if (!expect.optional.ingress) {
      t.same(ingresses, [], 'no Ingress');
      return;
    }
    t.equal(ingresses.length, 1, 'one Ingress');
    const paths = ingresses.flatMap((i) => i.spec?.rules?.flatMap((rule) => rule.http?.paths ?? []) ?? []);
    t.ok(paths.length > 0, 'routes some paths');
    for (const p of paths) {
      t.equal(p.backend.service?.name, fullname, `${p.path} goes to the public Service`);
      t.equal(p.backend.service?.port?.number, 3000, `${p.path} goes to port 3000`);
      t.equal(p.backend.service?.port?.name, undefined, `${p.path} names no port`);
      t.equal(p.pathType, 'Prefix', `${p.path} is a prefix`);
    }
    t.same([...new Set(paths.map((p) => p.path))].sort(), [...expect.ingressPaths].sort(), 'routes only the expected prefixes');
    t.equal(ingresses[0]?.spec?.defaultBackend, undefined, 'no default backend');
  });

  t.test('optional resources', async (t) => {
    const hpas = r.all(HorizontalPodAutoscaler);
    const pdbs = r.all(PodDisruptionBudget);
    const nps = r.all(NetworkPolicy);
    const sms = r.all(ServiceMonitor);
    t.equal(hpas.length, expect.optional.hpa ? 1 : 0, `HorizontalPodAutoscaler ${expect.optional.hpa ? 'present' : 'absent'}`);
    t.equal(pdbs.length, expect.optional.pdb ? 1 : 0, `PodDisruptionBudget ${expect.optional.pdb ? 'present' : 'absent'}`);
    t.equal(nps.length, expect.optional.networkPolicy ? 1 : 0, `NetworkPolicy ${expect.optional.networkPolicy ? 'present' : 'absent'}`);
    t.equal(sms.length, expect.optional.serviceMonitor ? 1 : 0, `ServiceMonitor ${expect.optional.serviceMonitor ? 'present' : 'absent'}`);

    const hpa = hpas[0];
    if (hpa) {
      t.same(hpa.spec?.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: fullname }, 'the HPA scales the Deployment');
      t.equal(dep.spec?.replicas, undefined, 'the Deployment leaves replicas to the HPA');
    } else {
      t.type(dep.spec?.replicas, 'number', 'the Deployment sets replicas');
    }
    const pdb = pdbs[0];
    if (pdb) t.ok(selects(pdb.spec?.selector?.matchLabels, podLabels), 'the PDB selects the server pods');

    const np = nps[0];
    if (np) {
      t.ok(selects(np.spec?.podSelector.matchLabels, podLabels), 'the NetworkPolicy selects the server pods');
      t.same(np.spec?.policyTypes, ['Ingress'], 'it governs ingress');
      const rules = np.spec?.ingress ?? [];
      const publicRule = rules.find((rule) => rule.ports?.some((p) => p.port === 'http'));
      const adminRule = rules.find((rule) => rule.ports?.some((p) => p.port === 'admin'));
      t.ok(publicRule, 'a rule admits the public port');
      t.ok(adminRule?.from?.length, 'the admin port admits listed peers only, never everyone');
      t.ok(
        rules.every((rule) => rule.ports?.length === 1),
        'each rule is about one port',
      );
    }

    const sm = sms[0];
    if (sm) {
      const internal = r.one(Service, internalName);
      t.ok(selects(sm.spec.selector.matchLabels, internal.metadata?.labels), 'the ServiceMonitor selects the internal Service');
      t.notOk(selects(sm.spec.selector.matchLabels, r.one(Service, fullname).metadata?.labels), '…and not the public one');
      t.same(sm.spec.namespaceSelector?.matchNames, [namespace], 'in the release namespace');
      t.same(
        sm.spec.endpoints?.map((e) => ({ port: e.port, path: e.path })),
        [{ port: 'admin', path: '/metrics' }],
        'scrapes /metrics on the admin port',
      );
    }
  });

  t.test('helm test pod', async (t) => {
    const pod = r.one(Pod, `${fullname}-test-connection`);
    t.equal(pod.metadata?.annotations?.['helm.sh/hook'], 'test', 'a test hook');
    const c = container(pod.spec, 'test');
    t.ok(
      [...(c.command ?? []), ...(c.args ?? [])].includes(`http://${internalName}.${namespace}.svc:3001/health/ready`),
      'fetches /health/ready from the internal Service',
    );
    t.equal(pod.spec?.securityContext?.runAsNonRoot, true, 'runs as non-root');
    t.equal(c.securityContext?.allowPrivilegeEscalation, false, 'no privilege escalation');
  });
}

const helmScript = join(repoRoot, 'scripts', 'helm.sh');
const built = await run('bash', [helmScript], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 }).then(
  ({ stdout }) => ({ bin: stdout.trim() }),
  (error: { code?: unknown; stderr?: string; message: string }) => ({ error }),
);

if ('error' in built) {
  if (built.error.code === 127) {
    t.test('helm chart', { skip: `Go is not installed, so scripts/helm.sh cannot build helm (${built.error.stderr?.trim() ?? ''})` }, () => {});
  } else {
    t.fail(`scripts/helm.sh failed: ${built.error.stderr ?? ''}${built.error.message}`);
  }
} else {
  const bin = built.bin;
  t.ok(existsSync(bin), `scripts/helm.sh built ${bin}`);

  const prodValues = parse(readFileSync(productionValues, 'utf8')) as { secret?: { existingSecret?: unknown } };
  const existingSecret = prodValues.secret?.existingSecret;

  t.test('helm lint --strict', async (t) => {
    for (const args of [generate, ['-f', productionValues]]) {
      const { stdout } = await helm(bin, ['lint', '--strict', chartDir, ...args]);
      t.match(stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/, `lint ${args.join(' ') || 'default values'}`);
    }
  });

  t.test('default values, with secret.generate', async (t) => {
    const r = await render(t, bin, generate);
    assertEssentials(t, r, {
      secretName: fullname,
      chartSecret: true,
      optional: { hpa: false, pdb: false, networkPolicy: false, serviceMonitor: false, ingress: false },
      ingressPaths: [],
    });
  });

  t.test('ci/production-values.yaml', async (t) => {
    t.type(existingSecret, 'string', 'the production values use an existing Secret');
    t.not(existingSecret, '', 'the production values name it');
    const r = await render(t, bin, ['-f', productionValues]);
    assertEssentials(t, r, {
      secretName: String(existingSecret),
      chartSecret: false,
      optional: { hpa: true, pdb: true, networkPolicy: true, serviceMonitor: true, ingress: true },
      ingressPaths: ['/oauth', '/api/documentation'],
    });
    const ing = r.one(Ingress, fullname);
    t.ok(ing.spec?.tls?.length, 'the production Ingress terminates TLS');
    t.ok(
      ing.spec?.rules?.every((rule) => rule.host),
      'every production rule names its host',
    );
  });

  t.test('ingress enabled with default paths routes only /oauth', async (t) => {
    const r = await render(t, bin, [...generate, '--set', 'ingress.enabled=true']);
    assertEssentials(t, r, {
      secretName: fullname,
      chartSecret: true,
      optional: { hpa: false, pdb: false, networkPolicy: false, serviceMonitor: false, ingress: true },
      ingressPaths: ['/oauth'],
    });
  });

  t.test('two replicas bring a PodDisruptionBudget; a NetworkPolicy without peers keeps the admin port closed', async (t) => {
    const r = await render(t, bin, [...generate, '--set', 'replicaCount=2', '--set', 'networkPolicy.enabled=true']);
    assertEssentials(t, r, {
      secretName: fullname,
      chartSecret: true,
      optional: { hpa: false, pdb: true, networkPolicy: true, serviceMonitor: false, ingress: false },
      ingressPaths: [],
    });
    const adminRule = r.one(NetworkPolicy, fullname).spec?.ingress?.find((rule) => rule.ports?.some((p) => p.port === 'admin'));
    t.same(
      adminRule?.from?.map((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/component']),
      ['test'],
      'only the helm test pod may reach the admin port',
    );
  });

  t.test('existingSecret without the production values', async (t) => {
    const r = await render(t, bin, ['--set', 'secret.existingSecret=my-credentials']);
    assertEssentials(t, r, {
      secretName: 'my-credentials',
      chartSecret: false,
      optional: { hpa: false, pdb: false, networkPolicy: false, serviceMonitor: false, ingress: false },
      ingressPaths: [],
    });
  });

  t.test('values.schema.json rejects unknown and malformed values', async (t) => {
    for (const set of [
      'bogus=1',
      'config.logLevel=loud',
      'secret.secretKey=short',
      'service.internal.type=LoadBalancer',
      // src/config.ts refuses TTLs under 60 s: the pod would exit 78 at start.
      'config.accessTokenTtl=30',
      'config.refreshTokenTtl=59',
      'database.poolMax=0',
      'database.poolMax=201',
      'config.shutdownDelay=-1',
      // Credentials never go into the (plain-text) ConfigMap.
      'config.extraEnv.DATABASE_URL=postgresql://u:p@db/x',
      'config.extraEnv.MIGRATION_DATABASE_URL=postgresql://u:p@db/x',
      'config.extraEnv.PASSPORT_APP_KEY=base64:abc',
      'config.extraEnv.SECRET_KEY=x',
      'config.extraEnv.ADMIN_TOKENS=x',
      'config.extraEnv.REDIS_URL=redis://x',
      'config.extraEnv.REDIS_PASSWORD=x',
      'config.extraEnv.SOME_API_TOKEN=x',
    ]) {
      await t.rejects(helm(bin, ['template', release, chartDir, ...generate, '--set', set]), /schema/, `--set ${set} is rejected`);
    }
    const r = await render(t, bin, [...generate, '--set', 'config.extraEnv.HASH_CONCURRENCY=2', '--set', 'config.extraEnv.PASSPORT_PUBLIC_KEY=pem']);
    const data = r.one(ConfigMap, fullname).data ?? {};
    t.equal(data.HASH_CONCURRENCY, '2', 'a non-secret variable is accepted');
    t.equal(data.PASSPORT_PUBLIC_KEY, 'pem', 'PASSPORT_PUBLIC_KEY is a public key, accepted');
  });

  t.test('SECRET_KEY is never generated unless secret.generate says so', async (t) => {
    // helm template (as Argo CD renders) cannot read the live Secret: a generated key would change on every render.
    await t.rejects(
      helm(bin, ['template', release, chartDir, '--namespace', namespace]),
      /ADMIN_TOKENS and SECRET_KEY are neither set nor in a live Secret auth\/dbs-reseller-auth.*secret\.existingSecret.*secret\.generate=true/s,
      'the default values fail the render, naming the ways out',
    );
    await t.rejects(
      helm(bin, ['template', release, chartDir, '--namespace', namespace, '--set', 'secret.adminTokens[0]=0123456789abcdef0123']),
      /secret: SECRET_KEY is neither set/,
      'an admin token alone is not enough',
    );
    const secretKey = Buffer.alloc(32, 7).toString('base64');
    const r = await render(t, bin, ['--set', `secret.secretKey=${secretKey}`, '--set', 'secret.adminTokens[0]=0123456789abcdef0123']);
    const secret = r.one(Secret, fullname);
    const decode = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
    t.equal(decode('SECRET_KEY'), secretKey, 'the given SECRET_KEY, as given');
    t.equal(decode('ADMIN_TOKENS'), '0123456789abcdef0123');
    const again = await render(t, bin, ['--set', `secret.secretKey=${secretKey}`, '--set', 'secret.adminTokens[0]=0123456789abcdef0123']);
    t.same(again.one(Secret, fullname).data, secret.data, 'the same on every render');
  });

  t.test('drain: SHUTDOWN_DELAY, lifecycle and the grace period agree', async (t) => {
    const r = await render(t, bin, generate);
    const dep = r.one(Deployment, fullname);
    t.equal(r.one(ConfigMap, fullname).data?.SHUTDOWN_DELAY, '5', 'SHUTDOWN_DELAY 5 s by default');
    t.equal(dep.spec?.template.spec?.terminationGracePeriodSeconds, 30, 'grace 30 s ≥ 5 + 15 + 5');
    t.equal(container(dep.spec?.template.spec, 'server').lifecycle, undefined, 'no preStop: the service drains by itself');

    const withSleep = await render(t, bin, [
      ...generate,
      '--set-json',
      'lifecycle={"preStop":{"sleep":{"seconds":5}}}',
      '--set',
      'terminationGracePeriodSeconds=40',
    ]);
    t.same(container(withSleep.one(Deployment, fullname).spec?.template.spec, 'server').lifecycle, { preStop: { sleep: { seconds: 5 } } });

    await t.rejects(
      helm(bin, ['template', release, chartDir, ...generate, '--set', 'terminationGracePeriodSeconds=20']),
      /terminationGracePeriodSeconds \(20\) must be at least 25/,
      'a grace period shorter than the drain fails the render',
    );
    await t.rejects(
      helm(bin, ['template', release, chartDir, ...generate, '--set-json', 'lifecycle={"preStop":{"sleep":{"seconds":10}}}']),
      /terminationGracePeriodSeconds \(30\) must be at least 35: the preStop sleep \(10 s\)/,
      'a preStop sleep counts against it',
    );
    const noDelay = await render(t, bin, [...generate, '--set', 'config.shutdownDelay=0', '--set', 'terminationGracePeriodSeconds=20']);
    t.equal(noDelay.one(ConfigMap, fullname).data?.SHUTDOWN_DELAY, '0', 'SHUTDOWN_DELAY 0 is allowed');
  });

  t.test('pool size and migration ownership in the ConfigMap', async (t) => {
    const r = await render(t, bin, [...generate, '--set', 'database.poolMax=25']);
    const data = r.one(ConfigMap, fullname).data ?? {};
    t.equal(data.DATABASE_POOL_MAX, '25', 'database.poolMax → DATABASE_POOL_MAX');
    t.equal(data.MIGRATE_ON_START, 'false', 'the migration Job runs: the pods never migrate');
    const noJob = await render(t, bin, [...generate, '--set', 'migration.enabled=false']);
    t.equal(noJob.one(ConfigMap, fullname).data?.MIGRATE_ON_START, 'true', 'no Job: each pod migrates at start');
    t.same(noJob.all(Job), [], 'and no Job is rendered');

    // The schema-owning credentials for the Job alone.
    const migrationUrl = { name: 'MIGRATION_DATABASE_URL', valueFrom: { secretKeyRef: { name: 'schema-owner', key: 'url' } } };
    const owned = await render(t, bin, [...generate, '--set-json', `migration.extraEnv=[${JSON.stringify(migrationUrl)}]`]);
    t.same(
      container(owned.one(Job, `${fullname}-migration`).spec?.template.spec, 'migration').env?.find((e) => e.name === 'MIGRATION_DATABASE_URL'),
      migrationUrl,
      'migration.extraEnv reaches the Job',
    );
    t.notOk(
      container(owned.one(Deployment, fullname).spec?.template.spec, 'server').env?.some((e) => e.name === 'MIGRATION_DATABASE_URL'),
      'and not the pods',
    );
  });

  t.test('extraContainers and initContainers', async (t) => {
    const proxy = {
      name: 'cloud-sql-proxy',
      image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.0',
      args: ['--port=5432', 'project:region:db'],
    };
    const init = { name: 'wait-for-db', image: 'busybox:1.37.0', command: ['sh', '-c', 'true'] };
    const r = await render(t, bin, [
      ...generate,
      '--set-json',
      `extraContainers=[${JSON.stringify(proxy)}]`,
      '--set-json',
      `initContainers=[${JSON.stringify(init)}]`,
    ]);
    const spec = r.one(Deployment, fullname).spec?.template.spec;
    t.same(
      spec?.containers.map((c) => c.name),
      ['reseller-auth', 'cloud-sql-proxy'],
      'the service first, then the extra container',
    );
    t.same(spec?.containers[1], proxy);
    t.same(spec?.initContainers, [init]);
  });
}
