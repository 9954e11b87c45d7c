// Crash-safe file writes for the workspace: a file is either its old or its new complete content,
// never a mix, whatever moment the process is killed (test/unit/node/workspace/kill-during-save.test.ts);
// and an audit line is appended whole or, at worst, left as a torn final line that verifyAudit names.

import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, open, rename, unlink, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temp files are named `.<target>.<pid>.<random>.tmp` in the target's folder: never `v<N>.json`. */
export const TEMP_FILE_PATTERN = /^\..+\.\d+\.[0-9a-f]{12}\.tmp$/;

export interface WriteAtomicOptions {
  /**
   * false: create the file only if it does not exist yet (throws an error with code 'EEXIST'
   * otherwise), so two writers can never both create version N. Default true (replace).
   */
  readonly overwrite?: boolean;
}

async function writeAll(fh: FileHandle, buf: Uint8Array): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/**
 * fsync a directory so a rename or a new entry in it survives a power cut. Some platforms
 * (Windows) and file systems cannot open or sync a directory; the rename is still atomic there.
 */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF' && code !== 'ENOTSUP') throw e;
  } finally {
    await fh?.close();
  }
}

/**
 * Writes `content` to `path` atomically: a temp file with a unique name in the same folder is
 * written and fsynced, then renamed over the target (or hard-linked, when overwrite is false),
 * then the folder is fsynced. A kill at any moment leaves the target old or new, complete; a
 * failure removes the temp file (a kill cannot, and leaves a `.…tmp` file that no reader takes
 * for a workspace file).
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array, opts: WriteAtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  let created = false;
  try {
    const fh = await open(tmp, 'wx', 0o644);
    created = true;
    try {
      await writeAll(fh, buf);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.overwrite === false) {
      await linkNoReplace(tmp, path);
      await unlink(tmp);
    } else {
      await rename(tmp, path);
    }
    created = false;
    await fsyncDir(dir);
  } catch (e) {
    if (created) await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

/** link(2) fails with EEXIST if the target exists: an atomic create-if-absent. */
async function linkNoReplace(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // File systems without hard links (FAT, some network shares): check, then rename. Not atomic
    // against another process, but the workspace serialises its own writers (workspace.ts).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw e;
    if (await stat(path).then(() => true, () => false)) {
      throw Object.assign(new Error(`EEXIST: file already exists, link '${tmp}' -> '${path}'`), { code: 'EEXIST' });
    }
    await rename(tmp, path);
  }
}

/**
 * Appends one line (a newline is added) with O_APPEND and fsyncs it. The whole line goes to the
 * kernel in one write() call, so a killed process leaves the line whole or absent; only a short
 * write (disk full) or a power cut could leave a torn final line, and a failed write is cut back
 * to the previous end of the file.
 */
export async function appendLineDurable(path: string, line: string): Promise<void> {
  if (line.includes('\n') || line.includes('\r')) throw new Error(`appendLineDurable: the line for ${basename(path)} contains a line break`);
  const buf = Buffer.from(`${line}\n`, 'utf8');
  const fh = await open(path, 'a', 0o644);
  let sizeBefore = -1;
  try {
    sizeBefore = (await fh.stat()).size;
    await writeAll(fh, buf);
    await fh.sync();
  } catch (e) {
    if (sizeBefore >= 0) await fh.truncate(sizeBefore).catch(() => undefined);
    throw e;
  } finally {
    await fh.close();
  }
  if (sizeBefore === 0) await fsyncDir(dirname(path));
}

const queues = new Map<string, Promise<unknown>>();

/**
 * Runs `work` after every earlier call with the same key has settled (a per-key queue within this
 * process). Other processes are not excluded: one workspace has one writer at a time.
 */
export function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const run = before.then(work, work);
  const tail = run.then(() => undefined, () => undefined);
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return run;
}
