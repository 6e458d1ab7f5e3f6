import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** The parts of an OCI image configuration our images set (the Dockerfile's instructions). */
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  User?: string;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
}

export interface Layer {
  /** The uncompressed layer tarball. */
  path: string;
  /** sha256:<hex> of the tarball: the layer's diff ID. */
  diffId: string;
}

export interface ImageSpec {
  /** Full reference, e.g. "ghcr.io/agentspec/operator:0.1.0". */
  ref: string;
  layers: Layer[];
  config: ImageConfig;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * A reproducible layer from a directory: GNU tar with names sorted, every mtime at 0, owner root and no
 * host-specific headers, so the same files give the same digest on every machine.
 */
export async function tarLayer(rootfs: string, out: string): Promise<Layer> {
  execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '-C',
    rootfs,
    '-cf',
    out,
    '.',
  ]);
  return { path: out, diffId: `sha256:${await sha256File(out)}` };
}

/**
 * Writes a docker-archive (the `docker save` format, which `ctr images import` reads) holding `images`; layers
 * shared between images are stored once.
 */
export async function writeDockerArchive(out: string, images: ImageSpec[]): Promise<void> {
  const staging = mkdtempSync(join(dirname(out), '.archive-'));
  try {
    const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    for (const image of images) {
      const layerNames: string[] = [];
      for (const layer of image.layers) {
        const name = `${layer.diffId.slice('sha256:'.length)}/layer.tar`;
        if (!existsSync(join(staging, name))) {
          mkdirSync(dirname(join(staging, name)), { recursive: true });
          copyFileSync(layer.path, join(staging, name));
        }
        layerNames.push(name);
      }
      const config = JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        created: '1970-01-01T00:00:00Z',
        config: image.config,
        rootfs: { type: 'layers', diff_ids: image.layers.map((l) => l.diffId) },
      });
      const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
      writeFileSync(join(staging, configName), config);
      manifest.push({ Config: configName, RepoTags: [image.ref], Layers: layerNames });
    }
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify(manifest));
    execFileSync('tar', [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '-C',
      staging,
      '-cf',
      `${out}.tmp`,
      '.',
    ]);
    renameSync(`${out}.tmp`, out);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Copies a file into a rootfs at `path` (parents created), following symlinks, keeping the mode. */
export function addFile(rootfs: string, source: string, path: string, mode?: number): void {
  const target = join(rootfs, path);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(source), target);
  if (mode !== undefined) chmodSync(target, mode);
}

export function addSymlink(rootfs: string, path: string, to: string): void {
  const target = join(rootfs, path);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(to, target);
}

/** The shared libraries a dynamically linked program loads, as `ldd` resolves them on this host. */
export function sharedLibraries(binary: string): string[] {
  const output = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libraries: string[] = [];
  for (const line of output.split('\n')) {
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (match?.[1]) libraries.push(match[1]);
  }
  return libraries;
}

/** Copies a binary and, at the paths the host resolves them from, every library it loads. */
export function addProgram(rootfs: string, source: string, path: string): void {
  addFile(rootfs, source, path, 0o755);
  for (const library of sharedLibraries(source)) {
    if (!existsSync(join(rootfs, library))) addFile(rootfs, library, library, 0o755);
  }
}

/** /etc/passwd and /etc/group with root and the images' non-root user (65532, as distroless names it). */
export function addUsers(rootfs: string, extra: { name: string; id: number }[] = []): void {
  const users = [{ name: 'root', id: 0 }, { name: 'nonroot', id: 65532 }, ...extra];
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(
    join(rootfs, 'etc', 'passwd'),
    users
      .map((u) => `${u.name}:x:${u.id}:${u.id}:${u.name}:/${u.id === 0 ? 'root' : 'home/' + u.name}:/sbin/nologin\n`)
      .join(''),
  );
  writeFileSync(join(rootfs, 'etc', 'group'), users.map((u) => `${u.name}:x:${u.id}:\n`).join(''));
  mkdirSync(join(rootfs, 'tmp'), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
}
