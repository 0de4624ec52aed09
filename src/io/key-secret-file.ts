/**
 * `render --key-secret FILE`: the secret that render-only keys are derived
 * from, so that renders of a state without stored keys can be compared byte
 * for byte (CI diffs, benchmarks). It stands in for every key it derives, so
 * it is held to the rules of a key file: readable by its owner only.
 */
import { EsdcError, UsageError } from '../errors.js';
import { octalMode, readFileWithMode, secretExposed, type FileWithMode } from './read-with-mode.js';

/** Below this, HKDF would stretch a guessable secret into keys that look strong. */
export const KEY_SECRET_MIN_BYTES = 32;

export async function readKeySecretFile(path: string): Promise<Buffer> {
  let file: FileWithMode;
  try {
    file = await readFileWithMode(path);
  } catch (e) {
    throw new UsageError(`--key-secret ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  const { data: secret, mode } = file;
  if (secretExposed(mode)) {
    throw new EsdcError(
      `--key-secret ${path} is readable by others (mode ${octalMode(mode)}); ` +
        `every key it derives would be too: run chmod 600 ${path}`,
      { code: 'KeySecretInsecure' },
    );
  }
  if (secret.length < KEY_SECRET_MIN_BYTES) {
    // The length, never the content.
    throw new UsageError(
      `--key-secret ${path} holds ${secret.length} byte(s); at least ${KEY_SECRET_MIN_BYTES} are needed ` +
        '(e.g. head -c 64 /dev/urandom > FILE)',
    );
  }
  return secret;
}
