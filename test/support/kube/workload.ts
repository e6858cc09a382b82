// The example's Deployment, Service and image, read from the files a user applies and builds,
// as the simulated cluster needs them: the container's command as the runtime makes it (the
// manifest's command/args over the image's ENTRYPOINT/CMD), its env, ports and probes (with
// Kubernetes' defaults), the grace period and the rolling-update strategy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { type Dockerfile, readDockerfile } from '../dockerfile.js';

type YamlMap = { [key: string]: YamlValue };

export interface Probe {
  path: string;
  /** The container port it reaches. */
  port: number;
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

export interface Workload {
  name: string;
  replicas: number;
  /** The rolling update's bounds, as pod counts. */
  maxSurge: number;
  maxUnavailable: number;
  graceMs: number;
  labels: Record<string, string>;
  /** The container's command line, as the runtime execs it (no shell). */
  argv: string[];
  workingDir: string;
  env: Record<string, string>;
  /** containerPort by port name. */
  ports: Map<string, number>;
  readiness: Probe;
  liveness: Probe | undefined;
  service: { port: number; targetPort: number; selector: Record<string, string> };
  image: Dockerfile;
}

const isMap = (v: YamlValue | undefined): v is YamlMap =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function map(v: YamlValue | undefined, where: string): YamlMap {
  assert.ok(isMap(v), `${where} is a mapping`);
  return v;
}
function list(v: YamlValue | undefined, where: string): YamlValue[] {
  assert.ok(Array.isArray(v), `${where} is a list`);
  return v;
}
function text(v: YamlValue | undefined, where: string): string {
  assert.equal(typeof v, 'string', `${where} is a string`);
  return v as string;
}
function int(v: YamlValue | undefined, where: string, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  assert.ok(Number.isInteger(v), `${where} is an integer`);
  return v as number;
}
function strings(v: YamlValue | undefined, where: string): string[] {
  return list(v, where).map((s, i) => text(s, `${where}[${i}]`));
}
function labels(v: YamlValue | undefined, where: string): Record<string, string> {
  return Object.fromEntries(Object.entries(map(v, where)).map(([k, s]) => [k, text(s, `${where}.${k}`)]));
}

/** maxSurge / maxUnavailable: a count, or a share of `replicas` (surge rounds up, unavailable down). */
function bound(
  v: YamlValue | undefined,
  where: string,
  replicas: number,
  round: (x: number) => number,
): number {
  const given = v ?? '25%';
  if (typeof given === 'string') {
    const m = /^(\d+)%$/.exec(given);
    assert.ok(m, `${where} is a count or a percentage`);
    return round((replicas * Number(m[1])) / 100);
  }
  return int(given, where);
}

function probe(v: YamlValue | undefined, where: string, ports: Map<string, number>): Probe | undefined {
  if (v === undefined) return undefined;
  const p = map(v, where);
  const get = map(p.httpGet, `${where}.httpGet`);
  const port = typeof get.port === 'string' ? ports.get(get.port) : int(get.port, `${where}.httpGet.port`);
  assert.ok(port !== undefined, `${where}.httpGet.port names a container port`);
  const seconds = (key: string, fallback: number): number => int(p[key], `${where}.${key}`, fallback) * 1000;
  return {
    path: text(get.path, `${where}.httpGet.path`),
    port,
    // Kubernetes' defaults.
    initialDelayMs: seconds('initialDelaySeconds', 0),
    periodMs: seconds('periodSeconds', 10),
    timeoutMs: seconds('timeoutSeconds', 1),
    successThreshold: int(p.successThreshold, `${where}.successThreshold`, 1),
    failureThreshold: int(p.failureThreshold, `${where}.failureThreshold`, 3),
  };
}

/** A value of a manifest, as the yaml library reads it. */
type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

/** Reads `deployment.yaml`, `service.yaml` and `Dockerfile` in `dir`. */
export function readWorkload(dir: string): Workload {
  const docs = ['deployment.yaml', 'service.yaml'].flatMap((f) =>
    parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${f}: ${doc.errors[0]!.message}`);
      return doc.toJS() as YamlValue;
    }),
  );
  const kind = (k: string): YamlMap => {
    const found = docs.filter((d) => isMap(d) && d.kind === k);
    assert.equal(found.length, 1, `one ${k}`);
    return found[0] as YamlMap;
  };
  const image = readDockerfile(path.join(dir, 'Dockerfile'));
  const deployment = kind('Deployment');
  const spec = map(deployment.spec, 'Deployment.spec');
  const replicas = int(spec.replicas, 'spec.replicas', 1);
  const strategy = map(spec.strategy ?? {}, 'spec.strategy');
  assert.equal(strategy.type ?? 'RollingUpdate', 'RollingUpdate', 'spec.strategy.type');
  const rolling = map(strategy.rollingUpdate ?? {}, 'spec.strategy.rollingUpdate');
  const template = map(spec.template, 'spec.template');
  const pod = map(template.spec, 'spec.template.spec');
  const containers = list(pod.containers, 'containers');
  assert.equal(containers.length, 1, 'one container');
  const c = map(containers[0], 'containers[0]');

  const ports = new Map<string, number>();
  for (const [i, p] of list(c.ports ?? [], 'ports').entries()) {
    const port = map(p, `ports[${i}]`);
    ports.set(text(port.name, `ports[${i}].name`), int(port.containerPort, `ports[${i}].containerPort`));
  }
  // The runtime's rule: command replaces ENTRYPOINT (and drops CMD); args replace CMD.
  const command = c.command === undefined ? (image.entrypoint ?? []) : strings(c.command, 'command');
  const args =
    c.args === undefined ? (c.command === undefined ? (image.cmd ?? []) : []) : strings(c.args, 'args');
  const argv = [...command, ...args];
  assert.ok(argv.length > 0, 'the container has a command');
  assert.ok(
    !argv.some((a) => a.includes('$(')),
    'no $(VAR) in the command: this reader does not expand them',
  );
  const env = { ...image.env };
  for (const [i, e] of list(c.env ?? [], 'env').entries()) {
    const v = map(e, `env[${i}]`);
    env[text(v.name, `env[${i}].name`)] = text(v.value, `env[${i}].value (a literal string)`);
  }

  const service = kind('Service');
  const sspec = map(service.spec, 'Service.spec');
  const sports = list(sspec.ports, 'Service.spec.ports');
  assert.equal(sports.length, 1, 'the Service has one port');
  const sport = map(sports[0], 'Service.spec.ports[0]');
  const port = int(sport.port, 'Service port');
  const target = sport.targetPort ?? port;
  const targetPort = typeof target === 'string' ? ports.get(target) : int(target, 'targetPort');
  assert.ok(targetPort !== undefined, 'the Service targetPort names a container port');

  return {
    name: text(map(deployment.metadata, 'metadata').name, 'metadata.name'),
    replicas,
    maxSurge: bound(rolling.maxSurge, 'maxSurge', replicas, Math.ceil),
    maxUnavailable: bound(rolling.maxUnavailable, 'maxUnavailable', replicas, Math.floor),
    graceMs: int(pod.terminationGracePeriodSeconds, 'terminationGracePeriodSeconds', 30) * 1000,
    labels: labels(map(template.metadata, 'template.metadata').labels, 'template labels'),
    argv,
    workingDir: c.workingDir === undefined ? image.workdir : text(c.workingDir, 'workingDir'),
    env,
    ports,
    readiness: probe(c.readinessProbe, 'readinessProbe', ports)!,
    liveness: probe(c.livenessProbe, 'livenessProbe', ports),
    service: { port, targetPort, selector: labels(sspec.selector, 'Service.spec.selector') },
    image,
  };
}

/**
 * A pod's command and env on one loopback, where every pod's IP is 127.0.0.1: each container
 * port becomes `hostPorts.get(port)` where the command or env names it (an env value that is
 * the port, or an argument `[--flag=]0.0.0.0:PORT`, which binds 127.0.0.1 instead). Each port
 * must be named exactly once, so none is left behind on its real number.
 */
export function onLoopback(
  w: Workload,
  hostPorts: Map<number, number>,
): { argv: string[]; env: Record<string, string> } {
  const used = new Map<number, number>();
  const mapped = (port: number): number => {
    const to = hostPorts.get(port);
    assert.ok(to !== undefined, `a host port for container port ${port}`);
    used.set(port, (used.get(port) ?? 0) + 1);
    return to;
  };
  const containerPorts = new Set(w.ports.values());
  const argv = w.argv.map((a) => {
    const m = /^(--[\w-]+=)?(0\.0\.0\.0|\[::\])?:(\d+)$/.exec(a);
    return m && containerPorts.has(Number(m[3])) ? `${m[1] ?? ''}127.0.0.1:${mapped(Number(m[3]))}` : a;
  });
  const env = Object.fromEntries(
    Object.entries(w.env).map(([k, v]) => [
      k,
      /^\d+$/.test(v) && containerPorts.has(Number(v)) ? String(mapped(Number(v))) : v,
    ]),
  );
  for (const port of containerPorts) assert.equal(used.get(port), 1, `container port ${port} named once`);
  return { argv, env };
}
